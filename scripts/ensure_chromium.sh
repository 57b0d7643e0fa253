#!/usr/bin/env bash
# Make sure Debian's chromium is at /usr/bin/chromium: the web UI's tests drive it with
# Playwright (browser downloads are not needed, nor possible everywhere).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
echo "Installing chromium (for the web UI's browser tests) ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "chromium did not install at /usr/bin/chromium" >&2; exit 1; }
