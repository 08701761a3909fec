"""The ingest agent: ``checkins.v1`` (key venue) -> ``scans-by-card.v1`` (key card) | dead letters.

Consumes raw bytes, so no record can fail inside faust's deserialisation. Each batch is
routed by :func:`stream_jobs.ingest.logic.route`; valid scans are forwarded unchanged (the
original bytes) keyed by card_id, refused ones go to the dead-letter topic with the reason
and their source topic/partition/offset in headers. Offsets are committed by faust after its
producer has flushed, so every input ends up downstream at least once (duplicates are
removed by event_id further on).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import faust

from stream_jobs.ingest.logic import STAGE, Source, route
from truyvet import metrics, topics
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import Reason
from truyvet.settings import Settings

log = logging.getLogger(__name__)
BATCH = 1000
BATCH_WITHIN_S = 0.05


def register(app: faust.App, s: Settings) -> Any:
    raw = {"key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(topics.checkins(s), allow_empty=True, **raw)
    by_card = app.topic(topics.scans_by_card(s), **raw)
    deadletter = app.topic(topics.deadletter(s), **raw)
    max_future_ms = s.max_future_skew_s * 1000

    async def dead_letter(letter: DeadLetter) -> None:
        await deadletter.send(key=letter.key, value=letter.payload, headers=letter.headers())
        metrics.DEADLETTERS.labels(STAGE, letter.reason).inc()

    @app.agent(source, name=f"{s.topic_prefix}-ingest")
    async def ingest(stream: faust.StreamT) -> None:
        async for events in stream.take_events(BATCH, within=BATCH_WITHIN_S):
            now_ms = int(time.time() * 1000)
            newest: dict[int, int] = {}
            for event in events:
                msg = event.message
                where = Source(msg.topic, msg.partition, msg.offset)
                try:
                    out = route(msg.value, msg.key, where, now_ms, max_future_ms)
                    if isinstance(out, DeadLetter):
                        await dead_letter(out)
                        continue
                    await by_card.send(key=out.card_id.encode(), value=msg.value)
                    metrics.SCANS_INGESTED.inc()
                    if out.scanned_at_ms > newest.get(msg.partition, 0):
                        newest[msg.partition] = out.scanned_at_ms
                except Exception as exc:  # a bug must not lose the record or stop the job
                    log.exception("ingest failed on %s", where)
                    await dead_letter(DeadLetter(
                        reason=str(Reason.PROCESSING_ERROR), detail=repr(exc)[:500],
                        stage=STAGE, failed_at_ms=now_ms, payload=msg.value or b"",
                        key=msg.key, source_topic=where.topic,
                        source_partition=where.partition, source_offset=where.offset,
                    ))
            for partition, event_ms in newest.items():
                metrics.EVENT_TIME_LAG.labels(str(partition)).set((now_ms - event_ms) / 1000)

    return ingest
