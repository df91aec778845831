#!/usr/bin/env bash
# Debian packages the tests drive for real: headless Chromium and its driver (tests/e2e), nginx
# (tests/test_nginx.py runs deploy/nginx-stemspace.conf) and systemd's systemd-analyze
# (tests/test_deploy.py verifies the units in deploy/). Installs what is missing.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || need+=(chromium chromium-driver)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v systemd-analyze >/dev/null || need+=(systemd)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
elif command -v sudo >/dev/null; then
  sudo apt-get install -y "${need[@]}"
else
  echo "The tests need: apt-get install ${need[*]}" >&2
  exit 1
fi
