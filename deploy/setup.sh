#!/usr/bin/env bash
# Everything a fresh machine needs before truyvet runs or is tested:
#   1. a Python >= 3.11 virtualenv in .venv with the project and its test extras,
#   2. the Apache Kafka jars from Maven Central (deploy/kafka/fetch-jars.sh),
#   3. Debian packages: redis-server, chromium (PDF report, dashboard tests), a Vietnamese
#      font (deploy/debian/install.sh),
#   4. Java >= 17 to run the broker.
# Idempotent and quiet on a second run: each step is skipped when already done.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${TRUYVET_VENV:-$root/.venv}"
python="${PYTHON:-python3}"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- Java (the broker's runtime) --------------------------------------------------------
if ! command -v java >/dev/null 2>&1; then
  echo "setup: Java 17 or newer is required to run Kafka (apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi
java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
if [[ "${java_major%%.*}" -lt 17 ]]; then
  echo "setup: Kafka 4 needs Java >= 17, found $java_major" >&2
  exit 1
fi

# --- Python virtualenv ------------------------------------------------------------------
"$python" - <<'PY' || { echo "setup: Python >= 3.11 is required (set PYTHON=...)" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
if [[ ! -x "$venv/bin/python" ]]; then
  step "creating virtualenv $venv"
  "$python" -m venv "$venv"
fi
stamp="$venv/.truyvet-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  step "installing truyvet and its dependencies into $venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q -e ".[test]" >&2
  echo "$want" > "$stamp"
fi

# --- Kafka jars ---------------------------------------------------------------------------
if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
  step "Kafka jars"
  deploy/kafka/fetch-jars.sh >/dev/null
fi

# --- Debian packages ----------------------------------------------------------------------
step "Debian packages (redis-server, chromium, fonts)"
deploy/debian/install.sh
step "setup complete"
