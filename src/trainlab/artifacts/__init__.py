"""Artifact storage. Every client-supplied path or URI is checked in ``paths`` and nowhere else."""
