"""The visits job: ``scans-by-card.v1`` (key card) -> ``visits.v1`` (compacted buckets).

State is per source partition, in memory: the
:class:`~truyvet.domain.matching.visit_builder.VisitBuilder` of the cards hashed to it. It is
rebuilt from Kafka alone: when a partition is assigned, its history up to the group's committed
offset is replayed into a fresh builder (no output) before any new scan of it is processed. So
a restarted or replacing worker holds exactly the state of the one before it, and every answer
stays the same. Revoked partitions drop their state.

Outputs are bucket replacements (idempotent), partitioned by venue; a replay after a crash
re-emits the same buckets. Batches, commits and delivery guarantees: :mod:`truyvet.jobs.runtime`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from truyvet import metrics, topics
from truyvet.codec import card_scan
from truyvet.codec import visits as visits_codec
from truyvet.codec.checkin import CheckIn
from truyvet.codec.errors import InvalidEvent
from truyvet.domain.matching.rules import MatchRules
from truyvet.domain.matching.visit_builder import VisitBuilder, new_builder
from truyvet.domain.matching.visits import Dwell, Scan
from truyvet.jobs.runtime import BatchJob
from truyvet.jobs.step import Output, StepResult, dead_letter
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import read_partition
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.record import Record, TopicPartition
from truyvet.settings import Settings

log = logging.getLogger(__name__)
STAGE = "visits"


def to_scan(c: CheckIn) -> Scan:
    return Scan(c.scanned_at_ms // 1000, c.event_id, c.venue_id, c.direction)


def bucket_time_ms(visits: Sequence[tuple[int, int]], now_ms: int) -> int:
    """A bucket record's timestamp: when its last visit ended (never in the future), so that
    the topic's retention removes it once every visit in it is older than the retention; a
    tombstone is stamped now (it must outlive the value it deletes)."""
    if not visits:
        return now_ms
    return topics.record_time_ms(max(end for _, end in visits) * 1000, now_ms)


def apply_records(builder: VisitBuilder, values: Sequence[bytes | None], now_s: int, now_ms: int,
                  decoded: Callable[[int, bytes | None], tuple[str, Scan] | None],
                  venue_partition: Callable[[str], int]) -> list[tuple[bytes, bytes | None, int, int]]:
    """One partition's records through ``builder``: each value decoded by ``decoded`` (None:
    refused, dead-lettered by it), the scans applied card by card in order of first
    appearance, every touched bucket as (key, value, partition, timestamp). The reference of
    the compiled builder's ``apply_records`` (which reads ingest's records itself and asks
    ``decoded`` only for the others): tests/unit/test_native_builder.py."""
    per_card: dict[str, list[Scan]] = {}
    for i, raw in enumerate(values):
        got = decoded(i, raw)
        if got is not None:
            per_card.setdefault(got[0], []).append(got[1])
    return [(visits_codec.key(u), visits_codec.encode(u), venue_partition(u.venue),
             bucket_time_ms(u.visits, now_ms))
            for card, scans in per_card.items() for u in builder.apply(card, scans, now_s)]


class VisitsStep:
    stage = STAGE

    def __init__(self, s: Settings, rules: MatchRules, dwell: Dwell,
                 backend: Backend | None = None) -> None:
        self.s = s
        self.rules = rules
        self.dwell = dwell
        self.backend = backend
        self.source = topics.scans_by_card(s)
        self.sink = topics.visits(s)
        self.partitions = s.checkin_partitions
        self._venue_partition = lambda venue: partition_of(venue.encode(), self.partitions)
        self.builders: dict[int, VisitBuilder] = {}
        self._last_purge = time.monotonic()

    # --- state ------------------------------------------------------------------------------------
    def assigned(self, partitions: dict[TopicPartition, int]) -> None:
        for (_, p), committed in partitions.items():
            self.builders[p] = self._rebuild(p, committed)

    def revoked(self, partitions: list[TopicPartition]) -> None:
        for _, p in partitions:
            if self.builders.pop(p, None) is not None:
                metrics.SCANS_HELD.remove(str(p))  # another worker reports it now

    def _rebuild(self, partition: int, until: int) -> VisitBuilder:
        started = time.monotonic()
        b = new_builder(self.dwell, self.rules.retention_s)
        now_s = int(time.time())
        n = 0
        for batch in read_partition(self.s, self.source, partition, until, backend=self.backend):
            scans = []
            for r in batch:
                try:
                    c = card_scan.decode(r.value or b"")
                except InvalidEvent:
                    continue  # was dead-lettered when first processed
                scans.append((c.card_id, to_scan(c)))
            b.add_all(scans, now_s)
            n += len(scans)
        log.info("visits: partition %d rebuilt from %d scans (offsets < %d) in %.1fs",
                 partition, n, until, time.monotonic() - started)
        metrics.SCANS_HELD.labels(str(partition)).set(b.scans)
        return b

    # --- processing ---------------------------------------------------------------------------------
    def process(self, batch: Sequence[Record], now_ms: int) -> StepResult:
        now_s = now_ms // 1000
        result = StepResult()
        outputs, sink = result.outputs, self.sink
        by_partition: dict[int, list[Record]] = {}
        for r in batch:
            records = by_partition.get(r.partition)
            if records is None:
                records = by_partition[r.partition] = []
            records.append(r)
        for partition, records in by_partition.items():
            builder = self.builders.get(partition)
            if builder is None:  # assigned without a callback: rebuild now, up to this
                # partition's own first record of the batch
                builder = self.builders[partition] = self._rebuild(partition, records[0].offset)

            def decoded(i: int, raw: bytes | None, records: list[Record] = records) -> tuple[str, Scan] | None:
                try:
                    c = card_scan.decode(raw or b"")
                except InvalidEvent as exc:  # only if something bypassed the ingest job
                    result.dead.append(dead_letter(records[i], exc, STAGE, now_ms))
                    return None
                return c.card_id, to_scan(c)

            apply = getattr(builder, "apply_records", None)
            values = [r.value for r in records]
            got = (apply(values, now_s, now_ms, decoded, self._venue_partition) if apply else
                   apply_records(builder, values, now_s, now_ms, decoded, self._venue_partition))
            for key, value, part, stamp in got:
                outputs.append(Output(sink, key, value, part, stamp))
        metrics.VISIT_BUCKETS_EMITTED.inc(len(result.outputs))
        for p, b in self.builders.items():
            metrics.SCANS_HELD.labels(str(p)).set(b.scans)
        return result

    def tick(self, now_ms: int) -> None:
        """Between batches too (no input for a while): forget scans past the retention."""
        if time.monotonic() - self._last_purge < self.rules.sweep_every_s:
            return
        self._last_purge = time.monotonic()
        for p, b in self.builders.items():
            b.purge(now_ms // 1000)
            metrics.SCANS_HELD.labels(str(p)).set(b.scans)


def visits_job(s: Settings, rules: MatchRules, dwell: Dwell,
               backend: Backend | None = None) -> BatchJob:
    return BatchJob(s, "visits", topics.scans_by_card(s), VisitsStep(s, rules, dwell, backend),
                    topics.deadletter(s), backend=backend)
