#!/usr/bin/env bash
# Create bench/.venv-mlflow with the full reference MLflow package (provides `mlflow server`),
# and make sure the project venv has psutil (used by bench/run.py for RSS). Idempotent.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$BENCH_DIR")"
REF_VENV="${REF_VENV:-$BENCH_DIR/.venv-mlflow}"
PROJECT_VENV="${PROJECT_VENV:-$REPO_DIR/.venv}"
MLFLOW_SPEC="mlflow==3.17.*"
PYTHON="${PYTHON:-python3}"

quiet_pip() {
  # pip warns once per package about this machine's missing extra index folders: drop those.
  "$@" 2> >(grep -v "is neither a file nor a directory" >&2)
}

pip_install() {
  # $1 = venv, rest = requirement specs. Retry without the machine's pip constraints file
  # (in this venv only) if the resolver refuses.
  local venv="$1"
  shift
  quiet_pip "$venv/bin/pip" install --quiet "$@" ||
    PIP_CONSTRAINT= quiet_pip "$venv/bin/pip" install --quiet "$@"
}

if [[ ! -x "$REF_VENV/bin/python" ]]; then
  echo "creating $REF_VENV"
  "$PYTHON" -m venv "$REF_VENV"
fi

if "$REF_VENV/bin/python" - "$MLFLOW_SPEC" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    ok = version("mlflow").startswith("3.17.")
except PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
EOF
then
  echo "reference mlflow already installed: $("$REF_VENV/bin/mlflow" --version)"
else
  echo "installing $MLFLOW_SPEC into $REF_VENV"
  pip_install "$REF_VENV" "$MLFLOW_SPEC"
  echo "installed: $("$REF_VENV/bin/mlflow" --version)"
fi

if [[ -x "$PROJECT_VENV/bin/python" ]]; then
  if ! "$PROJECT_VENV/bin/python" -c "import psutil" 2>/dev/null; then
    echo "installing psutil into $PROJECT_VENV"
    pip_install "$PROJECT_VENV" psutil
  fi
else
  echo "warning: project venv $PROJECT_VENV not found; bench/run.py needs psutil there" >&2
fi
