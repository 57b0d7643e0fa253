"""The ``trainlab`` command."""
