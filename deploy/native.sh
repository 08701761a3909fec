#!/usr/bin/env bash
# The compiled visit builder (native/: a Rust extension, pyo3, built by maturin) into the
# virtualenv given as $1. Rebuilt only when native/'s source changed (a stamp in the venv);
# cargo from the PATH or rustup's ~/.cargo/bin (Debian's `cargo` package is enough: pyo3 needs
# Rust >= 1.63), crates from crates.io, maturin from PyPI. Without it truyvet still runs, on
# the Python builder (the reference), and the tests fail, saying so.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$1"
logs="${TRUYVET_SETUP_LOGS:-$root/.cache/setup}"
mkdir -p "$logs"
export PATH="$PATH:$HOME/.cargo/bin"

stamp="$venv/.truyvet-native"
want="$(cat "$root"/native/Cargo.toml "$root"/native/Cargo.lock "$root"/native/pyproject.toml \
        "$root"/native/src/*.rs | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && "$venv/bin/python" -c 'import truyvet_native' 2>/dev/null; then
  exit 0
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: no cargo to build native/ (the compiled visit builder); install Debian's: apt-get install -y cargo (or rustup), then run: make setup" >&2
  exit 1
fi
rm -f "$stamp"
echo "setup: building native/ with cargo (release; log: $logs/native.log)" >&2
if ! "$venv/bin/python" -m pip install --disable-pip-version-check --force-reinstall --no-deps \
    "$root/native" >"$logs/native.log" 2>&1; then
  echo "setup: building native/ failed ($(grep -m1 -E '^error|ERROR' "$logs/native.log" || tail -n 1 "$logs/native.log")); whole log: $logs/native.log; check that https://crates.io and https://pypi.org are reachable, then run: make setup" >&2
  exit 1
fi
echo "$want" > "$stamp"
