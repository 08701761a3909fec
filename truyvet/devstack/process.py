"""Detached server processes tracked by pid files, and probing until ready."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


class StartError(RuntimeError):
    """A server did not start or did not become ready; the message says where to look."""


def read_pid(pidfile: Path) -> int | None:
    """The pid in ``pidfile`` if that process is alive, else None (and the stale file goes)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if _alive(pid):
        return pid
    pidfile.unlink(missing_ok=True)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def spawn(argv: Sequence[str], logfile: Path, pidfile: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` in its own session (Ctrl-C in a terminal does not reach it directly),
    output appended to ``logfile``; returns the pid, also written to ``pidfile``."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )
    pidfile.write_text(str(proc.pid))
    return proc.pid


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    probe: Callable[[], bool], timeout: float, what: str, pid: int | None = None,
    logfile: Path | None = None,
) -> None:
    """Call ``probe`` until it returns True; fail early if ``pid`` dies, late after ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        if pid is not None and not _alive(pid):
            raise StartError(f"{what} exited during start-up{_see(logfile)}")
        try:
            if probe():
                return
        except StartError:
            raise  # the probe saw that the server will never be ready
        except Exception as exc:  # noqa: BLE001 - a probe failing is the normal not-ready case
            log.debug("%s not ready: %s", what, exc)
        if time.monotonic() > deadline:
            raise StartError(f"{what} not ready after {timeout:.0f}s{_see(logfile)}")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _see(logfile: Path | None) -> str:
    if logfile is None or not logfile.exists():
        return ""
    tail = logfile.read_text(errors="replace").splitlines()[-15:]
    return f"; see {logfile}:\n" + "\n".join(tail)


def stop(pid: int, what: str, timeout: float = 60.0, sig: int = signal.SIGTERM) -> bool:
    """Signal ``pid`` and wait for it to exit; SIGKILL after ``timeout``. True if it exited
    on the first signal (a clean stop)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            _reap(pid)
            return True
        time.sleep(0.1)
    log.warning("%s (pid %d) did not stop within %.0fs; killing it", what, pid, timeout)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap(pid)
    return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
