"""How far a job has read its inputs, in event time (pure; fed by the job's consumer loop).

A job that judges *absence* -- "this venue sent nothing for 30 minutes" -- may only judge a
moment its inputs are complete up to. While it catches up on a backlog (a restart, a rebuilt
partition) the wall clock is hours ahead of what it has read, and everything it has not read
yet would look like silence; and being at the end of a partition does not mean being at *now*
either: a backfill, or scanners sending what they buffered while offline, publish hours of the
past within seconds, and the consumer reaches the end of what is there between two of their
sends. So time is read from the records, never from the clock alone. Records carry the time
their event happened or was sent, not when they were published: check-ins the scan's time
(ingest stamps it), heartbeats and headcounts when the device sent them (what a producer
sending live stamps by default; the simulator stamps its backfill so), gaps when flagged.

- A partition being read (records still coming) is complete up to the newest record time read
  from it. So is one that has just reached its end: the end of what is published is not *now*
  (a backfill's producer delivers its partitions' batches at different moments, and a few
  hundred milliseconds of publishing can be an hour of event time).
- A partition *idle* at its end (the consumer said so, and nothing new came for ``idle_ms``)
  is complete up to what the inputs as a whole have reached: the newest record time read from
  the *clock topics*. Its producers are the same province's scanners as everybody else's; it
  just had nothing to say (no venue of it open, or the one open venue silent -- which is
  exactly what must be judged). Clock topics are those whose record times follow the scanners
  (check-ins, heartbeats); records made by the API (gaps, an inspector's headcount) carry the
  wall clock at the moment they were made and say nothing about how far the scanners' data
  has come: the API flags gaps while a backfill is still being published.
- A group of co-partitioned inputs (partition ``p`` of every input topic) is complete up to the
  earliest of its partitions, never later than now, and unknown until each of them has said
  something.

If every scanner stops (a province-wide outage) the time stops too and nobody is judged: that
is an outage for the operators (throughput drops to zero), not a venue's fault.
"""

from __future__ import annotations

from collections.abc import Iterable

IDLE_MS = 10_000  # far more than a producer's batches of one moment are apart


class InputProgress:
    def __init__(self, clock_topics: Iterable[str] | None = None, idle_ms: int = IDLE_MS) -> None:
        """``clock_topics``: the inputs whose record times tell how far the data has come
        (None: all of them); ``idle_ms``: how long a partition at its end must get nothing
        before it counts as idle."""
        self._clock_topics = None if clock_topics is None else frozenset(clock_topics)
        self.idle_ms = idle_ms
        self._newest_ms: dict[tuple[str, int], int] = {}
        self._at_end: dict[tuple[str, int], int] = {}  # -> when its end was reached (wall)
        self.reached_ms = -1  # the newest record time read from a clock topic

    def read(self, topic: str, partition: int, timestamp_ms: int) -> None:
        """A record was read (its timestamp; not monotonic: late events carry older ones)."""
        key = (topic, partition)
        self._at_end.pop(key, None)
        if timestamp_ms >= 0 and timestamp_ms > self._newest_ms.get(key, -1):  # -1: none
            self._newest_ms[key] = timestamp_ms
            if self._clock_topics is None or topic in self._clock_topics:
                self.reached_ms = max(self.reached_ms, timestamp_ms)

    def reached_end(self, topic: str, partition: int, now_ms: int) -> None:
        self._at_end.setdefault((topic, partition), now_ms)

    def forget(self, parts: Iterable[tuple[str, int]]) -> None:
        """Partitions revoked or lost: what was known of them no longer holds."""
        for key in parts:
            self._newest_ms.pop(key, None)
            self._at_end.pop(key, None)

    def at_end(self, topics: Iterable[str], partition: int) -> bool:
        """Partition ``partition`` of every topic in ``topics`` is read to its end."""
        return all((topic, partition) in self._at_end for topic in topics)

    def complete_to_ms(self, topics: Iterable[str], partition: int, now_ms: int) -> int | None:
        """The time up to which partition ``partition`` of every topic in ``topics`` is read,
        at most ``now_ms``; None while one of them has neither a record nor its end, or while
        no record at all has been read."""
        if self.reached_ms < 0:
            return None
        upto = min(now_ms, self.reached_ms)
        for topic in topics:
            key = (topic, partition)
            end_ms = self._at_end.get(key)
            if end_ms is not None and now_ms - end_ms >= self.idle_ms:
                continue  # idle: as far as everybody
            newest = self._newest_ms.get(key)
            if newest is None:
                return None
            upto = min(upto, newest)
        return upto
