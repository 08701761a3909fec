"""Publishing check-in scans: keyed by venue, so that all scans of a venue share a partition."""

from __future__ import annotations

import time

from truyvet import topics
from truyvet.codec import checkin
from truyvet.codec.checkin import CheckIn
from truyvet.codec.deadletter import DeadLetter
from truyvet.kafka.producer import DurableProducer
from truyvet.settings import Settings


class ScanPublisher:
    """Validated scans to the check-in topic; refused inputs to the dead-letter topic."""

    def __init__(self, s: Settings, client_id: str = "truyvet-scanner", **config: object) -> None:
        self.producer = DurableProducer(s, client_id, **config)
        self.checkins_topic = topics.checkins(s)
        self.deadletter_topic = topics.deadletter(s)

    def publish(self, scan: CheckIn) -> None:
        # stamped with the scan's time (never later than now: brokers refuse records from
        # the future), so that the topic's retention follows event time
        self.producer.send(self.checkins_topic, scan.venue_id.encode(), checkin.encode(scan),
                           timestamp_ms=min(scan.scanned_at_ms, int(time.time() * 1000)))

    def publish_raw(self, venue_id: str | bytes | None, payload: bytes) -> None:
        """Bytes as a scanner sent them, unvalidated (the stream jobs validate)."""
        self.producer.send(self.checkins_topic, venue_id, payload)

    def dead_letter(self, letter: DeadLetter) -> None:
        self.producer.send(self.deadletter_topic, letter.key, letter.payload, letter.headers())

    def flush(self, timeout: float = 330.0) -> int:
        return self.producer.flush(timeout)
