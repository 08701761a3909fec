#!/usr/bin/env bash
# Make sure the Debian packages truyvet needs are installed:
#   redis-server        the derived-state cache (truyvet runs its own instances)
#   chromium            prints the report to PDF; the dashboard's browser tests
#   fonts-noto-core     a font with Vietnamese diacritics for the PDF
# As root it installs what is missing; otherwise it says what to install. Idempotent.
set -euo pipefail
packages=(redis-server chromium fonts-noto-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian packages: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "debian: installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
# redis-server's package enables a system service on port 6379; truyvet runs its own instances.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
command -v redis-server >/dev/null && command -v chromium >/dev/null
