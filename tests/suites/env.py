"""What a suite needs of a backend, whichever it is: settings with topics of their own, the
backend, and a view of what the topics and groups hold that does not go through the code
under test."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from truyvet.kafka.backend import Backend
from truyvet.kafka.record import Record
from truyvet.settings import Settings


@dataclass
class Env:
    s: Settings
    backend: Backend
    records: Callable[[str], list[Record]]  # everything in a topic, per partition in order
    committed: Callable[[str, str], dict[int, int]]  # (group, topic) -> partition -> offset
    ends: Callable[[str], dict[int, int]]  # topic -> partition -> end offset

    def wait_committed_to_end(self, group: str, topic: str, timeout: float = 60.0,
                              alive: Callable[[], bool] = lambda: True) -> None:
        """Until ``group`` has committed the end of every non-empty partition of ``topic``."""
        deadline = time.monotonic() + timeout
        while True:
            ends = {p: e for p, e in self.ends(topic).items() if e > 0}
            committed = self.committed(group, topic)
            if all(committed.get(p, 0) >= e for p, e in ends.items()):
                return
            if not alive():
                raise RuntimeError(f"{group} stopped before it caught up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{group} on {topic}: {committed} < {ends}")
            time.sleep(0.05)
