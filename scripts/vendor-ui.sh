#!/usr/bin/env bash
# Refresh the web UI's vendored front-end libraries from the npm registry. The files are committed,
# so neither the server nor a user's install ever needs npm or a network; run this only to upgrade.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/src/trainlab/ui/static/vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm init -y >/dev/null
npm install --no-audit --no-fund htm@3.1.1 preact@10.29.8 uplot@1.6.32 >/dev/null
mkdir -p "$DEST"
cp node_modules/htm/preact/standalone.module.js "$DEST/preact-htm.module.js"
cp node_modules/uplot/dist/uPlot.iife.min.js "$DEST/uPlot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$DEST/uPlot.min.css"
{
  for pkg in htm preact uplot; do
    echo "== $pkg $(node -p "require('./node_modules/$pkg/package.json').version") =="
    cat "node_modules/$pkg/LICENSE"
    echo
  done
} > "$DEST/LICENSES.txt"
echo "vendored into $DEST"
