"""The dead-letter guard (pure): pause a job whose inputs are mostly refused.

A few bad events are normal and go to the dead-letter topic. When most of a job's recent
inputs are refused, something upstream changed (a scanner firmware, a schema, a wrong topic):
dead-lettering everything would bury the good events among the bad, so the job pauses, says
why in one log line, and neither sends nor commits the batch that tripped it
(``truyvet.jobs.runtime``). An operator who has looked at them resumes it: the guard then
*forgives* one window of inputs, so the same records are dead-lettered once instead of
tripping it again.

Two limits, as arroyo's dead-letter policy has them: the share refused of the last ``window``
inputs (the whole job), and the refusals in a row in one partition -- a producer gone wrong
that writes to one partition (one venue's scanners are keyed to one) hides in the share of all
partitions, but not in its own run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from truyvet.kafka.record import TopicPartition


class DeadLetterGuard:
    def __init__(self, max_share: float, max_consecutive: int = 0, window: int = 10_000,
                 min_inputs: int = 1_000) -> None:
        """``max_share`` of the last ``window`` inputs (at least ``min_inputs`` seen), and at
        most ``max_consecutive`` refusals in a row in a partition (0: no such limit)."""
        if not 0 < max_share <= 1:
            raise ValueError(f"the dead-letter share limit must be in (0, 1], got {max_share}")
        if max_consecutive < 0:
            raise ValueError(f"the consecutive dead-letter limit must be >= 0, got {max_consecutive}")
        self.max_share = max_share
        self.max_consecutive = max_consecutive
        self.window = window
        self.min_inputs = min_inputs
        self._batches: deque[tuple[int, int]] = deque()  # (inputs, refused) per batch
        self._inputs = 0
        self._refused = 0
        self._in_a_row: dict[TopicPartition, int] = {}
        self._grace = 0  # inputs still forgiven after a resume

    def forgive(self) -> None:
        """After a resume: the next ``window`` inputs are not judged, and what was counted
        before is forgotten."""
        self._batches.clear()
        self._inputs = self._refused = 0
        self._in_a_row.clear()
        self._grace = self.window

    def observe(self, inputs: int, refused: int) -> str | None:
        """Account for one batch; a sentence saying why to stop, or None."""
        if self._grace > 0:
            self._grace = max(0, self._grace - inputs)
            return None
        self._batches.append((inputs, refused))
        self._inputs += inputs
        self._refused += refused
        while self._batches and self._inputs - self._batches[0][0] >= self.window:
            n, r = self._batches.popleft()
            self._inputs -= n
            self._refused -= r
        if self.max_share >= 1 or self._inputs < self.min_inputs:
            return None
        share = self._refused / self._inputs
        if share <= self.max_share:
            return None
        return (f"{self._refused:,} of the last {self._inputs:,} inputs ({share:.0%}) were "
                f"dead-lettered, above the limit of {self.max_share:.0%} "
                f"(TRUYVET_DLQ_MAX_SHARE)")

    def observe_records(self, inputs: Sequence[tuple[TopicPartition, int]],
                        refused: set[tuple[TopicPartition, int]]) -> str | None:
        """Account for one batch record by record: ``inputs`` (partition, offset) in order,
        ``refused`` those dead-lettered. Both limits; a sentence saying why to stop, or None."""
        if (not refused and not self._in_a_row) or self._grace > 0:  # nothing to walk
            return self.observe(len(inputs), len(refused))
        n = 0
        worst: tuple[int, TopicPartition] | None = None
        for tp, offset in inputs:
            n += 1
            if (tp, offset) in refused:
                run = self._in_a_row[tp] = self._in_a_row.get(tp, 0) + 1
                if self.max_consecutive and run > self.max_consecutive and \
                        (worst is None or run > worst[0]):
                    worst = (run, tp)
            elif tp in self._in_a_row:
                del self._in_a_row[tp]
        share = self.observe(n, len(refused))
        if share is not None or worst is None:
            return share
        run, (topic, partition) = worst
        return (f"{run:,} inputs in a row of {topic}[{partition}] were dead-lettered, above the "
                f"limit of {self.max_consecutive:,} (TRUYVET_DLQ_MAX_CONSECUTIVE)")

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions revoked: their runs start again with the next owner."""
        for tp in partitions:
            self._in_a_row.pop(tp, None)
