"""What a province's scanners publish: check-ins, heartbeats and headcounts (all keyed by
venue, so that everything about a venue shares a partition), and the venue registry."""

from __future__ import annotations

import time

from truyvet import topics
from truyvet.codec import checkin
from truyvet.codec import headcount as headcount_codec
from truyvet.codec import heartbeat as heartbeat_codec
from truyvet.codec import venue as venue_codec
from truyvet.codec.checkin import CheckIn
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.headcount import Headcount
from truyvet.codec.heartbeat import Heartbeat
from truyvet.codec.venue import Venue
from truyvet.kafka.backend import Backend
from truyvet.kafka.producer import DurableProducer
from truyvet.settings import Settings


class ScanPublisher:
    """Validated records to their topics, stamped with the time of their event (never later
    than now: brokers refuse records from the future), so that retention follows event time and
    the compliance job can tell how far the province's data has come; refused inputs to the
    dead-letter topic."""

    def __init__(self, s: Settings, client_id: str = "truyvet-scanner",
                 backend: Backend | None = None, **config: object) -> None:
        self.producer = DurableProducer(s, client_id, backend=backend, **config)
        self.checkins_topic = topics.checkins(s)
        self.heartbeats_topic = topics.heartbeats(s)
        self.headcounts_topic = topics.headcounts(s)
        self.venues_topic = topics.venues(s)
        self.deadletter_topic = topics.deadletter(s)

    def publish(self, scan: CheckIn, now_ms: int | None = None) -> None:
        self.producer.send(self.checkins_topic, checkin.key(scan), checkin.encode(scan),
                           timestamp_ms=_stamp(scan.scanned_at_ms, now_ms))

    def heartbeat(self, hb: Heartbeat, sent_ms: int, now_ms: int | None = None) -> None:
        """``sent_ms``: when the scanner sent it."""
        self.producer.send(self.heartbeats_topic, heartbeat_codec.key(hb),
                           heartbeat_codec.encode(hb), timestamp_ms=_stamp(sent_ms, now_ms))

    def headcount(self, hc: Headcount, sent_ms: int, now_ms: int | None = None) -> None:
        """``sent_ms``: when the counter sent it (a report comes after its span)."""
        self.producer.send(self.headcounts_topic, headcount_codec.key(hc),
                           headcount_codec.encode(hc), timestamp_ms=_stamp(sent_ms, now_ms))

    def venue(self, v: Venue) -> None:
        self.producer.send(self.venues_topic, venue_codec.key(v), venue_codec.encode(v))

    def publish_raw(self, venue_id: str | bytes | None, payload: bytes) -> None:
        """Bytes as a scanner sent them, unvalidated (the stream jobs validate)."""
        self.producer.send(self.checkins_topic, venue_id, payload)

    def dead_letter(self, letter: DeadLetter) -> None:
        self.producer.send(self.deadletter_topic, letter.key, letter.payload, letter.headers())

    def poll(self, timeout: float) -> None:
        self.producer.poll(timeout)

    def flush(self, timeout: float = 330.0) -> int:
        return self.producer.flush(timeout)

    @property
    def failed(self) -> int:
        """Records the broker never acknowledged (after every retry)."""
        return self.producer.stats.failed


def _stamp(event_ms: int, now_ms: int | None) -> int:
    return topics.record_time_ms(event_ms, int(time.time() * 1000) if now_ms is None else now_ms)
