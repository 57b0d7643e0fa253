"""Helpers for the side-by-side benchmark in bench/run.py (stdlib-only at import time)."""
