#!/usr/bin/env bash
# Make sure the Debian packages truyvet needs are there, each only when what it provides is
# missing (a Python with venv from pyenv, or a JDK from elsewhere, is as good):
#   python3-venv            `python3 -m venv` with pip (Debian's python3 has no ensurepip without it)
#   openjdk-17-jre-headless Java >= 17, the local Kafka broker's runtime
#   maven                   fetches the Kafka jars from Maven Central (only until they are cached)
#   redis-server            the derived-state cache (truyvet runs its own instances)
#   chromium                prints the report to PDF; the dashboard's browser tests
#   fonts-noto-core         a font with Vietnamese diacritics for the PDF
#   openssl                 makes the certificates of the secured local stack (stack up --secure)
#   cargo                   builds the compiled visit builder (native/; rustup's cargo is as good)
# As root it installs what is missing (apt-get; output in $TRUYVET_SETUP_LOGS/apt.log);
# otherwise it names the packages in one line with the command that installs them. Idempotent.
#
# Environment: PYTHON (default python3), KAFKA_VERSION, TRUYVET_CACHE_DIR, TRUYVET_CHROMIUM.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
logs="${TRUYVET_SETUP_LOGS:-$root/.cache/setup}"
python="${PYTHON:-python3}"
missing=()

have() { command -v "$1" >/dev/null 2>&1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! have "$python"; then
  echo "setup: no $python on the PATH; install Debian's: apt-get install -y python3 (or set PYTHON=/path/to/python3.11+)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: truyvet needs Python >= 3.11, $python is $("$python" -V 2>&1); set PYTHON=/path/to/python3.11+ (Debian 12's python3 is 3.11)" >&2
  exit 1
fi
# Debian splits ensurepip (what `python3 -m venv` uses to put pip in) into python3-venv
"$python" -m ensurepip --version >/dev/null 2>&1 || missing+=(python3-venv)

java_ok() {  # java.specification.version: "17", "21"; Java 8 said "1.8"
  local v
  v=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  v=${v#1.}
  [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 17 ]]
}
have java && java_ok || missing+=(openjdk-17-jre-headless)
if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] && ! have mvn \
    && [[ ! -f "${TRUYVET_CACHE_DIR:-$root/.cache}/kafka/${KAFKA_VERSION:-4.4.0}/.complete" ]]; then
  missing+=(maven)
fi
have redis-server || missing+=(redis-server)
have "${TRUYVET_CHROMIUM:-chromium}" || missing+=(chromium)
installed fonts-noto-core || missing+=(fonts-noto-core)
have openssl || missing+=(openssl)
have cargo || [[ -x "$HOME/.cargo/bin/cargo" ]] || missing+=(cargo)

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
if ! have apt-get; then
  echo "setup: missing ${missing[*]} and no apt-get to install them (truyvet's set-up knows Debian 12); install their equivalents, then run: make setup" >&2
  exit 1
fi
mkdir -p "$logs"
echo "setup: installing ${missing[*]} (apt-get; log: $logs/apt.log)" >&2
export DEBIAN_FRONTEND=noninteractive
{
  # a fresh image has no package lists: the first install fails, then they are fetched
  apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }
} >"$logs/apt.log" 2>&1 || {
  echo "setup: apt-get could not install ${missing[*]} ($(tail -n 1 "$logs/apt.log"); whole log: $logs/apt.log); fix the package source, then run: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
}
# redis-server's package enables a system service on port 6379; truyvet runs its own instances.
if have systemctl; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
