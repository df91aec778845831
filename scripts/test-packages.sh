#!/usr/bin/env bash
# The browser tests (tests/e2e) drive Debian's headless Chromium: install it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver
elif command -v sudo >/dev/null; then
  sudo apt-get install -y chromium chromium-driver
else
  echo "The browser tests need Chromium: apt-get install chromium chromium-driver" >&2
  exit 1
fi
