"""A benchmark's children end with it: one ignoring SIGTERM is killed after the grace period,
and all are killed by the kernel when the benchmark itself is killed (issue 13: a killed
benchmark once left a worker spinning against the next benchmark's broker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bench import children
from truyvet.settings import ROOT

IGNORES_SIGTERM = ["-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                   "print('ready', flush=True); time.sleep(120)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its new parent) counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(path: Path, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < deadline, f"{text!r} not in {path}"
        time.sleep(0.05)


def test_a_child_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    proc = subprocess.Popen([sys.executable, *IGNORES_SIGTERM], stdout=open(log, "wb"))  # noqa: SIM115
    _wait_for(log, "ready")
    started = time.monotonic()
    children.stop(proc, grace_s=1.0)
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 10


def test_children_die_with_a_killed_benchmark(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    bench = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from bench import children
        from truyvet.settings import Settings
        s = Settings.from_env(env={{}}, data_dir=Path({str(tmp_path)!r}))
        child = children.start(s, ["http.server", "0", "--bind", "127.0.0.1"],
                               Path({str(tmp_path / "server.log")!r}))
        Path({str(pid_file)!r}).write_text(str(child.pid))
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", bench])
    try:
        deadline = time.monotonic() + 20
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.05)
        child = int(pid_file.read_text())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)  # no finally runs in the benchmark
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the child outlived its killed benchmark"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ValueError, FileNotFoundError, ProcessLookupError):
            pass


def _a_benchmark(tmp_path: Path, on_the_way_out: str) -> tuple[subprocess.Popen[bytes], Path]:
    """A process stopping on SIGTERM as a benchmark does, whose ``finally`` runs
    ``on_the_way_out`` (Python lines); its output (both streams) in the log returned."""
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from bench import children
        children.stop_on_sigterm()
        try:
            print("ready", flush=True)
            while True:
                time.sleep(0.05)
        finally:
    """) + textwrap.indent(textwrap.dedent(on_the_way_out), " " * 4)
    log = tmp_path / "bench.log"
    return subprocess.Popen([sys.executable, "-c", script], stdout=open(log, "wb"),  # noqa: SIM115
                            stderr=subprocess.STDOUT), log


def test_a_benchmark_stopped_with_sigterm_runs_its_finally(tmp_path: Path) -> None:
    """What a benchmark's ``finally`` stops (its broker, Redis, children) is stopped when the
    benchmark gets SIGTERM, not left running (Python's default exits without it)."""
    stopped = tmp_path / "stopped"
    proc, log = _a_benchmark(tmp_path, f"""
        Path({str(stopped)!r}).write_text("stack stopped")
    """)
    try:
        _wait_for(log, "ready")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 128 + signal.SIGTERM
        assert stopped.read_text() == "stack stopped"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_second_sigterm_does_not_cut_the_finally_short(tmp_path: Path) -> None:
    """A benchmark run under ``timeout`` and stopped by hand gets SIGTERM twice (2026-12-07: a
    ``bench serving`` so stopped left its broker running: the second signal ended the
    ``finally`` that was stopping it)."""
    go, stopped = tmp_path / "go", tmp_path / "stopped"
    proc, log = _a_benchmark(tmp_path, f"""
        print("stopping", flush=True)
        while not Path({str(go)!r}).exists():  # the stack being stopped
            time.sleep(0.01)
        Path({str(stopped)!r}).write_text("stack stopped")
    """)
    try:
        _wait_for(log, "ready")
        proc.send_signal(signal.SIGTERM)
        _wait_for(log, "stopping")
        proc.send_signal(signal.SIGTERM)
        _wait_for(log, "already stopping")
        go.touch()
        assert proc.wait(20) == 128 + signal.SIGTERM
        assert stopped.read_text() == "stack stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
