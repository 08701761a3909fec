"""Routing of one raw check-in record: a valid scan, or a dead letter saying why not.

Pure: no Kafka, no clock (the caller passes ``now_ms``).
"""

from __future__ import annotations

from dataclasses import dataclass

from truyvet.codec import checkin
from truyvet.codec.checkin import CheckIn
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.timefmt import format_ms

STAGE = "ingest"


@dataclass(frozen=True, slots=True)
class Source:
    topic: str
    partition: int
    offset: int


def route(
    value: bytes | None, key: bytes | None, source: Source, now_ms: int, max_future_ms: int
) -> CheckIn | DeadLetter:
    try:
        if value is None:
            raise InvalidEvent(Reason.NOT_JSON, "empty record (null value)")
        scan = checkin.decode(value)
        if scan.scanned_at_ms > now_ms + max_future_ms:
            raise InvalidEvent(
                Reason.TIMESTAMP_IN_FUTURE,
                f"scanned_at {format_ms(scan.scanned_at_ms)} is more than "
                f"{max_future_ms // 1000}s after the worker's clock {format_ms(now_ms)}",
            )
        return scan
    except InvalidEvent as exc:
        return DeadLetter(
            reason=str(exc.reason), detail=exc.detail, stage=STAGE, failed_at_ms=now_ms,
            payload=value or b"", key=key, source_topic=source.topic,
            source_partition=source.partition, source_offset=source.offset,
        )
