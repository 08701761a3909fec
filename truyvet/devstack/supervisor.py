"""Child processes kept running: one that dies is started again after a back-off.

``truyvet run`` starts the workers, the API and the simulator as children. A child that
exits while the run goes on (killed, crashed, out of memory) is started again after a delay
that doubles with each quick death (1 s, 2 s, 4 s ... at most 30 s) and is forgotten once the
child has run for a minute: a crash loop does not spin, a rare crash costs a second. Each
death and each restart is said on the console. A graceful stop signals SIGTERM and waits;
a child that outlives its deadline is killed.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 30.0
STEADY_S = 60.0  # a child that ran this long before dying starts again after FIRST_DELAY_S


@dataclass
class Backoff:
    """When to start a child again (pure: the times are given)."""

    first_s: float = FIRST_DELAY_S
    max_s: float = MAX_DELAY_S
    steady_s: float = STEADY_S
    quick_deaths: int = 0  # deaths in a row, each after less than ``steady_s`` of running

    def delay_after(self, ran_for_s: float) -> float:
        """The delay before the next start of a child that died after ``ran_for_s``."""
        self.quick_deaths = 1 if ran_for_s >= self.steady_s else self.quick_deaths + 1
        return min(self.max_s, self.first_s * 2 ** (self.quick_deaths - 1))


@dataclass
class Child:
    """One supervised process: ``name`` on the console, ``argv`` with ``env`` on top of the
    run's environment, output appended to ``log``."""

    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)  # its own settings (its principal)
    proc: subprocess.Popen[bytes] | None = None
    backoff: Backoff = field(default_factory=Backoff)
    started_at: float = 0.0
    restart_at: float | None = None  # when it is due to start again, once it died
    restarts: int = 0

    def start(self, env: dict[str, str], now: float) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:  # the child has its own copy of the descriptor
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env={**env, **self.env},
                                         start_new_session=True)
        self.started_at, self.restart_at = now, None

    def watch(self, env: dict[str, str], now: float, say: Callable[[str], None]) -> None:
        """Notice a death (and schedule the restart), or start again when due."""
        if self.proc is not None and self.proc.poll() is not None:
            code, self.proc = self.proc.returncode, None
            delay = self.backoff.delay_after(now - self.started_at)
            self.restart_at = now + delay
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"status {code}"
            say(f"{self.name} exited ({how}); restarting it in {delay:g}s; see {self.log}")
        elif self.proc is None and self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.start(env, now)
            pid = self.proc.pid if self.proc is not None else None
            say(f"{self.name} restarted (restart {self.restarts}, pid {pid})")

    def stop(self, timeout: float, say: Callable[[str], None]) -> None:
        self.restart_at = None
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            say(f"  {self.name} did not stop in {timeout:g}s; killing it")
            self.proc.kill()
            self.proc.wait()
