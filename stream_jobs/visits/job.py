"""The visits agent: ``scans-by-card.v1`` (key card) -> ``visits.v1`` (compacted buckets).

State is per source partition, in memory: the :class:`VisitBuilder` of the cards hashed to
it. It is rebuilt from Kafka alone: before the first event of a newly assigned partition is
processed, the partition's history up to that event is replayed into a fresh builder (no
output). So a restarted or replacing worker holds exactly the state of the one before it,
and every answer stays the same. Revoked partitions drop their state.

Output records are bucket replacements (idempotent), sent through faust's producer, which
faust flushes before committing the input offsets: at-least-once, and a replay re-emits the
same buckets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from stream_jobs.visits.logic import BucketUpdate, VisitBuilder
from truyvet import metrics, topics
from truyvet.codec import checkin
from truyvet.codec import visits as visits_codec
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.kafka.follower import read_partition
from truyvet.matching.rules import DAY_S, MatchRules
from truyvet.matching.visits import Dwell, Scan
from truyvet.settings import Settings

log = logging.getLogger(__name__)
STAGE = "visits"
BATCH = 2000
BATCH_WITHIN_S = 0.05
PURGE_EVERY_S = 600.0


def partition_of(key: bytes, partitions: int) -> int:
    """murmur2, as Java clients and aiokafka partition keys."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class VisitsState:
    """The builders of the partitions this worker owns, and their warm-up."""

    def __init__(self, s: Settings, rules: MatchRules, dwell: Dwell) -> None:
        self.s = s
        self.rules = rules
        self.dwell = dwell
        self.builders: dict[int, VisitBuilder] = {}
        self.topic = topics.scans_by_card(s)

    def forget(self, partitions: set[int]) -> None:
        for p in partitions:
            self.builders.pop(p, None)

    async def builder(self, partition: int, first_offset: int) -> VisitBuilder:
        b = self.builders.get(partition)
        if b is None:
            started = time.monotonic()
            b = VisitBuilder(self.dwell, self.rules.retention_s)
            batches = await asyncio.get_running_loop().run_in_executor(
                None, read_partition, self.s, self.topic, partition, first_offset)
            now_s = int(time.time())
            n = 0
            for batch in batches:
                for m in batch:
                    try:
                        c = checkin.decode(m.value())
                    except InvalidEvent:
                        continue  # was dead-lettered when first processed
                    b.add(c.card_id, to_scan(c), now_s)
                    n += 1
            self.builders[partition] = b
            log.info("partition %d: state rebuilt from %d scans up to offset %d in %.1fs",
                     partition, n, first_offset, time.monotonic() - started)
        return b


def to_scan(c: checkin.CheckIn) -> Scan:
    return Scan(c.scanned_at_ms // 1000, c.event_id, c.venue_id, c.direction)


def register(app: faust.App, s: Settings, rules: MatchRules, dwell: Dwell) -> Any:
    raw = {"key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(topics.scans_by_card(s), allow_empty=True, **raw)
    sink = app.topic(topics.visits(s), **raw)
    deadletter = app.topic(topics.deadletter(s), **raw)
    partitions = s.checkin_partitions
    state = VisitsState(s, rules, dwell)

    @app.on_partitions_revoked.connect
    async def on_revoked(app: faust.App, revoked: set[Any], **_: Any) -> None:
        state.forget({tp.partition for tp in revoked if tp.topic == source.get_topic_name()})

    async def emit(u: BucketUpdate) -> None:
        key = visits_codec.encode_key(u.venue, u.day, u.card)
        await sink.send(
            key=key, value=visits_codec.encode_value(u.venue, u.day, u.card, u.visits),
            partition=partition_of(u.venue.encode(), partitions), timestamp=float(u.day * DAY_S),
        )
        metrics.VISIT_BUCKETS_EMITTED.inc()

    @app.agent(source, name=f"{s.topic_prefix}-visits")
    async def build_visits(stream: faust.StreamT) -> None:
        async for events in stream.take_events(BATCH, within=BATCH_WITHIN_S):
            now_s = int(time.time())
            by_partition: dict[int, list[Any]] = defaultdict(list)
            for event in events:
                by_partition[event.message.partition].append(event.message)
            for partition, msgs in by_partition.items():
                builder = await state.builder(partition, msgs[0].offset)
                per_card: dict[str, list[Scan]] = defaultdict(list)
                for msg in msgs:
                    try:
                        c = checkin.decode(msg.value)
                        per_card[c.card_id].append(to_scan(c))
                    except InvalidEvent as exc:  # only if something bypassed ingest
                        await _dead_letter(deadletter, msg, str(exc.reason), exc.detail, now_s)
                for card, scans in per_card.items():
                    try:
                        updates = builder.apply(card, scans, now_s)
                    except Exception as exc:  # a bug must not lose the scans or stop the job
                        log.exception("visits failed for card %s", card)
                        for msg in msgs:
                            if msg.key == card.encode():
                                await _dead_letter(deadletter, msg, str(Reason.PROCESSING_ERROR),
                                                   repr(exc)[:500], now_s)
                        continue
                    for u in updates:
                        await emit(u)
                metrics.SCANS_HELD.labels(str(partition)).set(builder.scans)

    @app.timer(PURGE_EVERY_S)
    async def purge() -> None:
        now_s = int(time.time())
        for b in list(state.builders.values()):
            b.purge(now_s)

    return build_visits


async def _dead_letter(topic: Any, msg: Any, reason: str, detail: str, now_s: int) -> None:
    letter = DeadLetter(reason=reason, detail=detail, stage=STAGE, failed_at_ms=now_s * 1000,
                        payload=msg.value or b"", key=msg.key, source_topic=msg.topic,
                        source_partition=msg.partition, source_offset=msg.offset)
    await topic.send(key=letter.key, value=letter.payload, headers=letter.headers())
    metrics.DEADLETTERS.labels(STAGE, reason).inc()
