"""The web UI's pages, scripts and styles, served by ``trainlab server`` at ``/``."""
