#!/usr/bin/env bash
# deploy/venv.sh VENV [PROJECT]: make sure VENV is a working virtualenv of $PYTHON (default
# python3) with PROJECT (default: this checkout) installed editable with its [test] extras.
#
# A virtualenv that cannot be used as it is gets rebuilt, with one line saying why: its
# bin/python is missing or does not start (half-made, or the Python it was made with is gone),
# it was made with another Python than $PYTHON, or it has no working pip (made while
# python3-venv was missing, or its creation was interrupted). The project is installed again
# when pyproject.toml, the extras or the Python changed, or when an earlier install did not
# finish (the stamp is written only after a complete install). A folder at VENV that is not a
# virtualenv is never deleted: the script says how to move it away.
#
# Environment: PYTHON, TRUYVET_EXTRAS (default test), TRUYVET_SETUP_LOGS (pip's log).
set -euo pipefail

venv="${1:?usage: deploy/venv.sh VENV [PROJECT]}"
project="$(cd "${2:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
python="${PYTHON:-python3}"
extras="${TRUYVET_EXTRAS:-test}"
logs="${TRUYVET_SETUP_LOGS:-$project/.cache/setup}"
mkdir -p "$logs"

fail() { echo "setup: $*" >&2; exit 1; }
# a Python, as a venv records the one that made it: the folder of the interpreter and its version
identity() {
  "$1" -c 'import os, platform, sys; print(os.path.realpath(os.path.dirname(os.path.abspath(sys._base_executable))), platform.python_version())'
}
made_with() {  # the same, from VENV/pyvenv.cfg
  "$python" - "$venv/pyvenv.cfg" <<'PY'
import os, sys
cfg = dict(line.split("=", 1) for line in open(sys.argv[1]) if "=" in line)
cfg = {k.strip(): v.strip() for k, v in cfg.items()}
print(os.path.realpath(cfg.get("home", "?")), cfg.get("version", cfg.get("version_info", "?")))
PY
}

want="$(identity "$python")" || fail "$python does not start; install Debian's: apt-get install -y python3"
name="$("$python" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["name"])' \
        "$project/pyproject.toml")" || fail "$project/pyproject.toml has no [project] name"

problem() {  # why VENV cannot be used as it is; nothing when it can

  if [[ ! -e "$venv/bin/python" && ! -L "$venv/bin/python" ]]; then
    echo "it has no bin/python (half-made)"
  elif ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    echo "its python does not start (the Python it was made with is gone?)"
  elif [[ "$(made_with)" != "$want" ]]; then
    echo "it was made with another Python ($(made_with)), not $python ($want)"
  elif ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "it has no working pip (made while python3-venv was missing, or interrupted)"
  fi
}

if [[ -e "$venv" && ! -f "$venv/pyvenv.cfg" ]]; then
  if [[ -d "$venv" && -z "$(ls -A "$venv")" ]]; then
    rmdir "$venv"
  else
    fail "$venv exists and is not a virtualenv (no pyvenv.cfg); move it away (mv $venv $venv.old), then run: make setup"
  fi
fi
if [[ -e "$venv" ]]; then
  why="$(problem)"
  if [[ -n "$why" ]]; then
    echo "setup: rebuilding $venv: $why" >&2
    rm -rf "$venv"
  fi
fi
if [[ ! -e "$venv" ]]; then
  echo "setup: creating virtualenv $venv with $python ($want)" >&2
  "$python" -m venv "$venv" >"$logs/venv.log" 2>&1 || {
    rm -rf "$venv"  # never leave a half-made one behind
    fail "$python -m venv failed ($(grep -m1 -iE 'error|not available|no module' "$logs/venv.log" || tail -n 1 "$logs/venv.log")); on Debian run: apt-get install -y python3-venv"
  }
  why="$(problem)"
  [[ -z "$why" ]] || { rm -rf "$venv"; fail "the new virtualenv $venv is unusable: $why; on Debian run: apt-get install -y python3-venv"; }
fi

why_pip() {  # the line of pip's log that says most about a failure, shortened
  { grep -m1 -oE '(Could not fetch URL|ERROR:).*' "$logs/pip.log" || tail -n 1 "$logs/pip.log"; } | cut -c1-240
}

stamp="$venv/.truyvet-installed"
wanted_stamp="$( (cat "$project/pyproject.toml"; echo "$extras $want") | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted_stamp" ]]; then
  rm -f "$stamp"  # written again only once the install is complete
  echo "setup: installing $name and its [$extras] dependencies into $venv (pip; log: $logs/pip.log)" >&2
  "$venv/bin/python" -m pip install --disable-pip-version-check -e "$project[$extras]" \
      >"$logs/pip.log" 2>&1 || \
    fail "pip could not install $name ($(why_pip); whole log: $logs/pip.log); check that https://pypi.org is reachable from here (a proxy? PIP_INDEX_URL, PIP_CERT), then run: make setup"
  echo "$wanted_stamp" > "$stamp"
fi
