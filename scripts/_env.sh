# Sourced by the scripts: creates .venv and installs trainlab with its dev extras when
# pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.trainlab-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing trainlab and its dependencies into .venv (2-3 minutes the first time) ..."
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  # pip's own lines (one per package, with download bars) are the progress
  .venv/bin/python -m pip install -e ".[dev]" 2>&1 \
    | grep -v -e "^WARNING: Location" -e "^Requirement already satisfied" || true
  .venv/bin/python -c "import trainlab.server.app, mlflow" # fail loudly if the install broke
  echo "$want" > "$stamp"
fi
