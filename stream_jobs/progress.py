"""How far a job has read its inputs, in event time (pure; fed by the job's consumer loop).

A job that judges *absence* -- "this venue sent nothing for 30 minutes" -- may only judge a
moment its inputs are complete up to. While it catches up on a backlog (a backfill, a restart,
a rebuilt partition) the wall clock is hours ahead of what it has read, and everything it has
not read yet would look like silence. So each input partition tells how far it is read:

- at its end (the consumer reported end of partition, nothing newer since): up to now;
- otherwise: up to the newest record timestamp read from it. Records carry the time their
  event happened or was sent, not when they were published: check-ins the scan's time (ingest
  stamps it), heartbeats and headcounts when the device sent them (what a producer sending
  live stamps by default; the simulator stamps its backfill so), gaps when they were flagged.

A group of co-partitioned inputs (partition ``p`` of every input topic) is complete up to the
earliest of these, and unknown until each of them has said something.
"""

from __future__ import annotations

from collections.abc import Iterable


class InputProgress:
    def __init__(self) -> None:
        self._newest_ms: dict[tuple[str, int], int] = {}
        self._at_end: set[tuple[str, int]] = set()

    def read(self, topic: str, partition: int, timestamp_ms: int) -> None:
        """A record was read (its timestamp; not monotonic: late events carry older ones)."""
        key = (topic, partition)
        self._at_end.discard(key)
        if timestamp_ms >= 0 and timestamp_ms > self._newest_ms.get(key, -1):  # -1: none
            self._newest_ms[key] = timestamp_ms

    def reached_end(self, topic: str, partition: int) -> None:
        self._at_end.add((topic, partition))

    def forget(self, parts: Iterable[tuple[str, int]]) -> None:
        """Partitions revoked or lost: what was known of them no longer holds."""
        for key in parts:
            self._newest_ms.pop(key, None)
            self._at_end.discard(key)

    def complete_to_ms(self, topics: Iterable[str], partition: int, now_ms: int) -> int | None:
        """The time up to which partition ``partition`` of every topic in ``topics`` is read,
        at most ``now_ms``; None while one of them has neither a record nor its end."""
        upto = now_ms
        for topic in topics:
            key = (topic, partition)
            if key in self._at_end:
                continue
            newest = self._newest_ms.get(key)
            if newest is None:
                return None
            upto = min(upto, newest)
        return upto
