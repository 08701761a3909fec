"""`truyvet run`'s supervision: a child that dies starts again after a back-off that doubles
with each quick death and is forgotten once the child has run steadily."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from truyvet.devstack.supervisor import Backoff, Child


def test_back_off_doubles_on_quick_deaths_up_to_its_cap_and_resets_after_a_steady_run() -> None:
    b = Backoff(first_s=1, max_s=30, steady_s=60)
    assert [b.delay_after(2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert b.delay_after(60) == 1  # it ran a minute: a new crash, not the same loop
    assert b.delay_after(0.1) == 2


def test_a_dead_child_is_said_and_started_again_when_due(tmp_path: Path) -> None:
    said: list[str] = []
    child = Child("job", [sys.executable, "-c", "import sys; sys.exit(3)"], tmp_path / "job.log")
    child.start({}, now=100.0)
    assert child.proc is not None
    child.proc.wait(30)
    child.watch({}, 101.0, said.append)  # noticed: dead after 1 s, due again at 102
    assert child.proc is None and child.restart_at == 102.0
    assert said == [f"job exited (status 3); restarting it in 1s; see {tmp_path / 'job.log'}"]
    child.watch({}, 101.5, said.append)  # not yet
    assert child.proc is None and len(said) == 1
    child.watch({}, 102.0, said.append)
    assert child.proc is not None and child.restarts == 1
    assert said[1] == f"job restarted (restart 1, pid {child.proc.pid})"
    child.proc.wait(30)
    child.watch({}, 102.5, said.append)  # a second quick death: twice the delay
    assert child.restart_at == 104.5 and "restarting it in 2s" in said[2]


def test_a_child_killed_by_a_signal_is_named_so_and_a_stop_cancels_its_restart(
        tmp_path: Path) -> None:
    said: list[str] = []
    child = Child("api", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "a.log")
    child.start({}, now=time.monotonic())
    assert child.proc is not None
    child.proc.kill()
    child.proc.wait(30)
    child.watch({}, time.monotonic(), said.append)
    assert said[0].startswith("api exited (killed by SIGKILL); restarting it in 1s")
    child.stop(5, said.append)
    child.watch({}, time.monotonic() + 10, said.append)  # stopped: never started again
    assert child.proc is None and len(said) == 1


def test_stop_is_graceful_first_and_kills_a_child_that_outlives_its_deadline(
        tmp_path: Path) -> None:
    said: list[str] = []
    stubborn = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('up', flush=True); time.sleep(60)")
    child = Child("stubborn", [sys.executable, "-c", stubborn], tmp_path / "s.log")
    child.start({}, now=0.0)
    deadline = time.monotonic() + 30
    while "up" not in (tmp_path / "s.log").read_text():  # its handler is in place
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.stop(0.5, said.append)
    assert child.proc is not None and child.proc.returncode == -9
    assert said == ["  stubborn did not stop in 0.5s; killing it"]
