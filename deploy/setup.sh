#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs before truyvet runs or is tested, in three steps:
#   1. Debian packages (deploy/debian/install.sh): python3-venv, a JRE >= 17, Maven, Redis,
#      Chromium, a Vietnamese font -- each only when what it provides is missing; installed
#      when run as root, otherwise named in one line with the command that installs them;
#   2. a Python >= 3.11 virtualenv in .venv with the project and its test extras
#      (deploy/venv.sh: a broken or half-made one is detected and rebuilt);
#   3. the Apache Kafka jars from Maven Central (deploy/kafka/fetch-jars.sh, cached in .cache/).
# Idempotent and quiet on a second run: each step is skipped when already done. Every step says
# what it does; a failure is one line saying why, with the command that fixes it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export TRUYVET_SETUP_LOGS="${TRUYVET_SETUP_LOGS:-$root/.cache/setup}"
mkdir -p "$TRUYVET_SETUP_LOGS"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

step "Debian packages"
deploy/debian/install.sh

step "Python virtualenv ${TRUYVET_VENV:-.venv}"
deploy/venv.sh "${TRUYVET_VENV:-$root/.venv}" "$root"

if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
  step "Kafka jars"
  if ! deploy/kafka/fetch-jars.sh >/dev/null 2>"$TRUYVET_SETUP_LOGS/kafka-jars.log"; then
    echo "setup: fetching the Kafka jars from Maven Central failed ($(tail -n 1 "$TRUYVET_SETUP_LOGS/kafka-jars.log"); whole log: $TRUYVET_SETUP_LOGS/kafka-jars.log); check that https://repo.maven.apache.org is reachable, then run: make setup" >&2
    exit 1
  fi
fi
step "setup complete"
