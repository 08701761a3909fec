"""The processes a benchmark starts (a worker, the API, the load generator): each ends with the
benchmark, however the benchmark ends.

A benchmark that fails or is interrupted stops its children in ``finally``: SIGTERM, then
SIGKILL when one does not stop within the grace period (a worker whose broker is already gone
may not). A benchmark stopped with SIGTERM (a timeout, a CI runner) runs its ``finally`` too
(:func:`stop_on_sigterm`): Python's default for SIGTERM is to exit at once, which left the
run's broker and Redis running (2026-12-07: a ``bench serving`` stopped so). A benchmark that
is itself killed (SIGKILL, the OOM killer) runs no ``finally``: its children get SIGKILL from
the kernel then (``PR_SET_PDEATHSIG``), so none is left spinning against the next
benchmark's broker.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from truyvet.settings import Settings

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_on_sigterm() -> None:
    """From now on, SIGTERM stops this process as Ctrl-C does: ``SystemExit`` raised where it
    runs, every ``finally`` run on the way out (the stack and the children stopped). A SIGTERM
    after the first is said and changes nothing: raised again, it would end the ``finally``
    stopping the stack (``timeout`` and a stop by hand both send one; SIGKILL still ends it)."""
    def again(_signum: int, _frame: object) -> None:
        print("bench: SIGTERM again: already stopping (its stack and children)",
              file=sys.stderr, flush=True)

    def stopped(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, again)
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stopped)


def start(s: Settings, args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    """``python -m ARGS…`` with these settings, output appended to ``log``."""
    full_env = {**os.environ, **s.to_env(), "TRUYVET_LOG_LEVEL": "info", **env}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", *args], env=full_env, stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)


def stop(proc: subprocess.Popen[bytes] | None, grace_s: float = 60.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; returns once the process is gone."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        print(f"pid {proc.pid} ({' '.join(map(str, proc.args[2:4]))}) ignored SIGTERM for "
              f"{grace_s:g}s: killed", file=sys.stderr, flush=True)
        proc.kill()
        proc.wait()


@contextmanager
def running(s: Settings, args: list[str], log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = start(s, args, log, **env)
    try:
        yield proc
    finally:
        stop(proc)
