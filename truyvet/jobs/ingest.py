"""The ingest job: ``checkins.v1`` (key venue) -> ``scans-by-card.v1`` (key card) | dead letters.

Valid scans (``truyvet.domain.checkins``) are forwarded keyed by card_id, in the compact form
of :mod:`truyvet.codec.card_scan` (time already parsed), stamped with the scan's time so that
retention follows event time; refused ones go to the dead-letter topic with the reason and
their source topic/partition/offset. Stateless. Batches, commits and delivery guarantees:
:mod:`truyvet.jobs.runtime`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from truyvet import metrics, topics
from truyvet.codec import card_scan
from truyvet.codec.checkin import CheckIn
from truyvet.codec.native import core as compiled
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import InvalidEvent
from truyvet.domain.checkins import accept
from truyvet.jobs.runtime import BatchJob
from truyvet.jobs.step import Output, StepResult, dead_letter
from truyvet.kafka.backend import Backend
from truyvet.kafka.record import Record, TopicPartition
from truyvet.settings import Settings

STAGE = "ingest"


def route(r: Record, now_ms: int, max_future_ms: int) -> CheckIn | DeadLetter:
    """One raw check-in record: the valid scan, or the dead letter saying why not."""
    try:
        return accept(r.value, now_ms, max_future_ms)
    except InvalidEvent as exc:
        return dead_letter(r, exc, STAGE, now_ms)


def forwarded(scan: CheckIn) -> tuple[bytes, bytes, int]:
    """A valid check-in as ingest forwards it: (key, scan-by-card value, scanned_at_ms); what
    the compiled ``read_checkins`` gives for the check-ins it reads."""
    return scan.card_id.encode(), card_scan.encode(scan), scan.scanned_at_ms


class IngestStep:
    stage = STAGE

    def __init__(self, s: Settings) -> None:
        self.by_card = topics.scans_by_card(s)
        self.max_future_ms = s.max_future_skew_s * 1000

    def process(self, batch: Sequence[Record], now_ms: int) -> StepResult:
        result = StepResult()
        outputs, dead, by_card = result.outputs, result.dead, self.by_card
        newest: dict[int, int] = {}
        # the compiled reading of what scanners send (None where these rules must judge)
        fast = (compiled.read_checkins([r.value for r in batch], now_ms, self.max_future_ms)
                if compiled is not None else itertools.repeat(None))
        for r, got in zip(batch, fast):
            if got is not None:
                key, value, at_ms = got
            else:
                out = route(r, now_ms, self.max_future_ms)
                if type(out) is DeadLetter:
                    dead.append(out)
                    continue
                scan: CheckIn = out  # type: ignore[assignment]
                key, value, at_ms = forwarded(scan)
            outputs.append(Output(by_card, key, value, None, topics.record_time_ms(at_ms, now_ms)))
            if at_ms > newest.get(r.partition, 0):
                newest[r.partition] = at_ms
        metrics.SCANS_INGESTED.inc(len(outputs))
        for partition, event_ms in newest.items():
            metrics.EVENT_TIME_LAG.labels(str(partition)).set((now_ms - event_ms) / 1000)
        return result

    def assigned(self, partitions: dict[TopicPartition, int]) -> None:
        pass  # stateless

    def revoked(self, partitions: list[TopicPartition]) -> None:
        pass


def ingest_job(s: Settings, backend: Backend | None = None) -> BatchJob:
    return BatchJob(s, "ingest", topics.checkins(s), IngestStep(s), topics.deadletter(s),
                    backend=backend)
