"""`bench serving` starts the stream workers as deploy/ runs them, a process per job kind, and
stops the ones it started when it cannot start them all (a benchmark stops what it started)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import serving
from truyvet.jobs.app import JOBS
from truyvet.settings import Settings


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_a_worker_per_job_kind_each_on_its_own_web_port(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    asked: list[list[str]] = []
    started: list[subprocess.Popen[bytes]] = []

    def child(s: Settings, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        asked.append(args)
        started.append(_sleeper())
        return started[-1]

    monkeypatch.setattr(serving, "child", child)
    monkeypatch.setattr(serving, "WORKERS", "per-job")
    try:
        workers = serving.start_workers(Settings.from_env(env={}, data_dir=tmp_path))
    finally:
        for p in started:
            p.kill()
            p.wait()
    assert sorted(workers) == sorted(f"worker {job}" for job in JOBS)
    jobs = [a[a.index("--jobs") + 1] for a in asked]
    assert sorted(jobs) == sorted(JOBS)
    ports = [a[a.index("--worker-web-port") + 1] for a in asked]
    assert len(set(ports)) == len(JOBS)


def test_the_workers_started_are_stopped_when_one_cannot_start(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    started: list[subprocess.Popen[bytes]] = []

    def child(s: Settings, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        if len(started) == 2:
            raise OSError("no such program")
        started.append(_sleeper())
        return started[-1]

    monkeypatch.setattr(serving, "child", child)
    monkeypatch.setattr(serving, "WORKERS", "per-job")
    try:
        with pytest.raises(OSError):
            serving.start_workers(Settings.from_env(env={}, data_dir=tmp_path))
        assert [p.poll() is not None for p in started] == [True, True]
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()
