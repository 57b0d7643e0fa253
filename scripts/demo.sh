#!/usr/bin/env bash
# The main job, end to end on the embedded default (a SQLite file + a local folder, no server):
# train several models, track every run, and print where to look.
source "$(dirname "$0")/_env.sh"
exec .venv/bin/python examples/quickstart.py "$@"
