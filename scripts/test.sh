#!/usr/bin/env bash
# The whole test suite: SQLite, the PostgreSQL server on 127.0.0.1:5432, real `trainlab server`
# processes and the stock mlflow client. Extra arguments go to pytest.
source "$(dirname "$0")/_env.sh"
bash scripts/ensure_postgres.sh
exec .venv/bin/python -m pytest "$@"
