#!/usr/bin/env bash
# The whole test suite: SQLite, the PostgreSQL server on 127.0.0.1:5432, real `trainlab server`
# processes, the stock mlflow client and the web UI in Debian's chromium. Extra arguments go to pytest.
source "$(dirname "$0")/_env.sh"
bash scripts/ensure_postgres.sh
bash scripts/ensure_chromium.sh
exec .venv/bin/python -m pytest "$@"
