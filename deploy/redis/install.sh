#!/usr/bin/env bash
# Make sure Debian's redis-server is installed. As root it installs the package when
# missing; otherwise it says what to install. Idempotent.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "redis-server is not installed. Install Debian's package: sudo apt-get install redis-server" >&2
  exit 1
fi
echo "install-redis: installing Debian's redis-server ..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends redis-server >&2; then
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends redis-server >&2
fi
# The package enables a system service on port 6379; truyvet runs its own instances.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
command -v redis-server >/dev/null
