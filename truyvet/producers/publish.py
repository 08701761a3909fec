"""``truyvet publish`` / ``truyvet venues load``: a file of records to Kafka, every row
accounted for.

Valid rows go to their topic (check-ins: key = venue_id; venues: the compacted registry, key =
venue_id). Refused rows go to the dead-letter topic with the reason and their file and row
number, and are listed in the summary.
Records the broker never acknowledged (after the producer's retries) are written, one
payload per line, to ``<file>.failed.jsonl``, which can be published again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truyvet.producers.files import CHECKINS, VENUE_LIST, VENUES, Kind, detect_format, read_rows
from truyvet import topics
from truyvet.codec import checkin, venue
from truyvet.codec.deadletter import DeadLetter
from truyvet.kafka.producer import DurableProducer
from truyvet.settings import Settings

# where each kind of record goes: topic, key, payload
DESTINATIONS: dict[str, tuple[Callable[[Settings], str], Callable[[Any], str], Callable[[Any], bytes]]] = {
    CHECKINS.name: (topics.checkins, lambda r: r.venue_id, checkin.encode),
    VENUES.name: (topics.venues, lambda r: r.venue_id, venue.encode),
    VENUE_LIST.name: (topics.venues, lambda r: r.venue_id, venue.encode),
}
REGISTRY = frozenset({VENUES.name, VENUE_LIST.name})  # a row per venue: repeats are told

MAX_LISTED = 1000  # rejected rows kept in the summary for display (all are counted)


@dataclass
class Rejected:
    row: int
    reason: str
    detail: str


@dataclass
class Assumed:
    """A venue whose record assumes what the file did not give."""

    row: int
    venue_id: str
    name: str
    district: str
    fields: list[str]


@dataclass
class PublishSummary:
    path: Path
    rows: int = 0
    sent: int = 0  # valid rows handed to the producer
    delivered: int = 0  # of which the broker acknowledged
    rejected: Counter[str] = field(default_factory=Counter)
    rejected_rows: list[Rejected] = field(default_factory=list)
    failed: int = 0  # acknowledged by nobody after all retries (written to failed_path)
    failed_path: Path | None = None
    failure_errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    # venues: what was assumed (field -> venues), the first of them; rows that repeat an
    # earlier row's venue (row -> the earlier row: the later record replaces the earlier)
    assumed: Counter[str] = field(default_factory=Counter)
    assumed_rows: list[Assumed] = field(default_factory=list)
    repeated: dict[int, int] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.delivered == self.sent

    def to_mapping(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "rows": self.rows,
            "sent": self.sent,
            "delivered": self.delivered,
            "rejected": dict(self.rejected),
            "rejected_rows": [r.__dict__ for r in self.rejected_rows],
            "failed": self.failed,
            "failed_file": str(self.failed_path) if self.failed_path else None,
            "failure_errors": dict(self.failure_errors),
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows / self.seconds) if self.seconds else None,
            "assumed": dict(self.assumed),
            "assumed_rows": [r.__dict__ for r in self.assumed_rows],
            "repeated_rows": [{"row": r, "repeats": first} for r, first in self.repeated.items()],
        }


def _note_venue(summary: PublishSummary, seen: dict[str, int], number: int, v: Any) -> None:
    first = seen.setdefault(v.venue_id, number)
    if first != number and len(summary.repeated) < MAX_LISTED:
        summary.repeated[number] = first
    if v.assumed:
        summary.assumed.update(v.assumed)
        if len(summary.assumed_rows) < MAX_LISTED:
            summary.assumed_rows.append(Assumed(number, v.venue_id, v.name, v.district,
                                                list(v.assumed)))


def publish_file(
    s: Settings,
    path: Path,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.time,
    kind: Kind = CHECKINS,
) -> PublishSummary:
    """Publish every row of ``path``; ``progress`` gets the bytes read so far."""
    fmt = detect_format(path, fmt)
    summary = PublishSummary(path)
    producer = DurableProducer(s, client_id="truyvet-publish")
    topic_of, key_of, encode = DESTINATIONS[kind.name]
    topic, deadletter = topic_of(s), topics.deadletter(s)
    started = time.perf_counter()
    last_progress = 0
    seen: dict[str, int] | None = {} if kind.name in REGISTRY else None  # venue -> first row
    with open(path, "rb") as stream:
        for row in read_rows(stream, fmt, kind):
            summary.rows += 1
            if row.record is not None:
                producer.send(topic, key_of(row.record).encode(), encode(row.record))
                summary.sent += 1
                if seen is not None:
                    _note_venue(summary, seen, row.number, row.record)
            else:
                assert row.error is not None
                reason = str(row.error.reason)
                summary.rejected[reason] += 1
                if len(summary.rejected_rows) < MAX_LISTED:
                    summary.rejected_rows.append(Rejected(row.number, reason, row.error.detail))
                letter = DeadLetter(
                    reason=reason, detail=row.error.detail, stage="publish",
                    failed_at_ms=int(clock() * 1000), payload=row.raw,
                    source_file=str(path), source_row=row.number,
                )
                producer.send(deadletter, None, letter.payload, letter.headers())
            if progress is not None and row.end_offset - last_progress >= 1 << 16:
                progress(row.end_offset)
                last_progress = row.end_offset
    producer.flush()
    summary.seconds = time.perf_counter() - started
    stats = producer.stats
    summary.delivered = summary.sent - sum(1 for f in stats.failures if f.topic == topic)
    summary.failed = len(stats.failures)
    if stats.failures:
        summary.failed_path = path.with_name(path.name + ".failed.jsonl")
        with open(summary.failed_path, "wb") as out:
            for f in stats.failures:  # one payload per line: publish this file again to retry
                out.write((f.value or b"").replace(b"\n", b" ") + b"\n")
        summary.failure_errors = Counter(f.error for f in stats.failures)
    if progress is not None:
        progress(path.stat().st_size)
    return summary
