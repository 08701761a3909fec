"""The ingest job: ``checkins.v1`` (key venue) -> ``scans-by-card.v1`` (key card) | dead letters.

Valid scans are forwarded keyed by card_id, in the compact form of
:mod:`truyvet.codec.card_scan` (time already parsed); refused ones go
to the dead-letter topic with the reason and their source topic/partition/offset. Batches,
commits and delivery guarantees: :mod:`truyvet.jobs.runtime`.
"""

from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import Message

from truyvet.domain.checkins import STAGE, Source, route
from truyvet.jobs.runtime import BatchJob, Output, StepResult
from truyvet import metrics, topics
from truyvet.codec import card_scan
from truyvet.codec.deadletter import DeadLetter
from truyvet.settings import Settings


class IngestStep:
    stage = STAGE

    def __init__(self, s: Settings) -> None:
        self.by_card = topics.scans_by_card(s)
        self.max_future_ms = s.max_future_skew_s * 1000

    def process(self, batch: Sequence[Message], now_ms: int) -> StepResult:
        result = StepResult()
        newest: dict[int, int] = {}
        for m in batch:
            out = route(m.value(), m.key(), Source(m.topic(), m.partition(), m.offset()), now_ms,
                        self.max_future_ms)
            if isinstance(out, DeadLetter):
                result.dead.append(out)
                continue
            # stamped with the scan's time, so that retention follows event time
            result.outputs.append(Output(self.by_card, out.card_id.encode(), card_scan.encode(out),
                                         timestamp_ms=min(out.scanned_at_ms, now_ms)))
            if out.scanned_at_ms > newest.get(m.partition(), 0):
                newest[m.partition()] = out.scanned_at_ms
        metrics.SCANS_INGESTED.inc(len(result.outputs))
        for partition, event_ms in newest.items():
            metrics.EVENT_TIME_LAG.labels(str(partition)).set((now_ms - event_ms) / 1000)
        return result

    def assigned(self, partitions: dict[tuple[str, int], int]) -> None:
        pass  # stateless

    def revoked(self, partitions: list[tuple[str, int]]) -> None:
        pass


def ingest_job(s: Settings) -> BatchJob:
    return BatchJob(s, "ingest", topics.checkins(s), IngestStep(s), topics.deadletter(s))
