#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs before truyvet runs or is tested, in these steps:
#   1. Debian packages (deploy/debian/install.sh): python3-venv, a JRE >= 17, Maven, Redis,
#      Chromium, a Vietnamese font -- each only when what it provides is missing; installed
#      when run as root, otherwise named in one line with the command that installs them;
#   2. a Python >= 3.11 virtualenv in .venv with the project and its test extras
#      (deploy/venv.sh: a broken or half-made one is detected and rebuilt);
#   3. the compiled visit builder (deploy/native.sh: native/, built with cargo and maturin from
#      crates.io and PyPI, installed into the virtualenv; rebuilt only when its source changes);
#   4. the Apache Kafka jars from Maven Central (deploy/kafka/fetch-jars.sh, cached in .cache/);
#   5. for the tests only (`setup.sh --tests`, as `make test` runs it): what the offline checks of
#      deploy/ need (deploy/helm/fetch-tools.sh, cached in .cache/tools): helm built from the Go
#      module proxy, and the KEDA CRDs from KEDA's Go module. Its build (CPU) starts first, in the
#      background, while the other steps wait on the network and the disk.
# Idempotent and quiet on a second run: each step is skipped when already done. Every step says
# what it does; a failure is one line saying why, with the command that fixes it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export TRUYVET_SETUP_LOGS="${TRUYVET_SETUP_LOGS:-$root/.cache/setup}"
mkdir -p "$TRUYVET_SETUP_LOGS"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

tools_pid=""
if [[ "${1:-}" == "--tests" ]]; then
  deploy/helm/fetch-tools.sh 2>"$TRUYVET_SETUP_LOGS/tools.log" &
  tools_pid=$!
  trap '[[ -n "$tools_pid" ]] && kill "$tools_pid" 2>/dev/null || true' EXIT
fi

step "Debian packages"
deploy/debian/install.sh

step "Python virtualenv ${TRUYVET_VENV:-.venv}"
deploy/venv.sh "${TRUYVET_VENV:-$root/.venv}" "$root"

step "compiled visit builder (native/, Rust)"
deploy/native.sh "${TRUYVET_VENV:-$root/.venv}"

if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
  step "Kafka jars"
  if ! deploy/kafka/fetch-jars.sh >/dev/null 2>"$TRUYVET_SETUP_LOGS/kafka-jars.log"; then
    echo "setup: fetching the Kafka jars from Maven Central failed ($(tail -n 1 "$TRUYVET_SETUP_LOGS/kafka-jars.log"); whole log: $TRUYVET_SETUP_LOGS/kafka-jars.log); check that https://repo.maven.apache.org is reachable, then run: make setup" >&2
    exit 1
  fi
fi

if [[ -n "$tools_pid" ]]; then
  step "helm and the KEDA CRDs for the chart's offline checks (minutes the first time: helm is built)"
  pid=$tools_pid
  if ! wait "$pid"; then
    tools_pid=""
    echo "setup: preparing helm and the KEDA CRDs failed ($(tail -n 1 "$TRUYVET_SETUP_LOGS/tools.log"); whole log: $TRUYVET_SETUP_LOGS/tools.log); check that the Go module proxy is reachable (GOPROXY) and Go >= 1.26 is installed, then run: make test" >&2
    exit 1
  fi
  tools_pid=""
fi
step "setup complete"
