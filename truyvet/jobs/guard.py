"""The dead-letter guard (pure): stop a job whose inputs are mostly refused.

A few bad events are normal and go to the dead-letter topic. When most of a job's recent
inputs are refused, something upstream changed (a scanner firmware, a schema, a wrong topic):
dead-lettering everything would bury the good events among the bad, so the job stops, says
why in one log line, and does not commit the batch that tripped it; after the cause is fixed,
a restarted worker processes those records again.
"""

from __future__ import annotations

from collections import deque


class DeadLetterGuard:
    """Over the last ``window`` inputs (at least ``min_inputs`` seen), the share refused."""

    def __init__(self, max_share: float, window: int = 10_000, min_inputs: int = 1_000) -> None:
        if not 0 < max_share <= 1:
            raise ValueError(f"the dead-letter share limit must be in (0, 1], got {max_share}")
        self.max_share = max_share
        self.window = window
        self.min_inputs = min_inputs
        self._batches: deque[tuple[int, int]] = deque()  # (inputs, refused) per batch
        self._inputs = 0
        self._refused = 0

    def observe(self, inputs: int, refused: int) -> str | None:
        """Account for one batch; a sentence saying why to stop, or None."""
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
