"""The durable producer against the real broker: acknowledged or reported, never dropped."""

from __future__ import annotations

from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.follower import read_topic
from truyvet.kafka.producer import DurableProducer, Failure
from truyvet.settings import Settings
from truyvet.topics import checkins


def test_every_record_is_acknowledged(settings: Settings) -> None:
    ensure_topics(settings)
    producer = DurableProducer(settings, "test")
    for i in range(20_000):
        producer.send(checkins(settings), f"v{i % 50}", b"x" * 100)
    assert producer.flush(60) == 0
    assert producer.stats.delivered == producer.stats.sent == 20_000
    assert producer.stats.failures == [] and producer.stats.in_flight == 0
    # the client reports failures only: the topic itself says every record is there
    assert sum(1 for _ in read_topic(settings, checkins(settings))) == 20_000


def test_a_failed_delivery_is_reported_not_dropped(settings: Settings) -> None:
    # no such topic and auto-creation is off: the broker never accepts these records
    seen: list[Failure] = []
    producer = DurableProducer(settings, "test", on_failure=seen.append, **{"message.timeout.ms": 3000})
    for i in range(5):
        producer.send(f"{settings.topic_prefix}.missing", b"k", f"r{i}".encode())
    assert producer.flush(30) == 0
    assert producer.stats.delivered == 0
    assert len(producer.stats.failures) == 5 == len(seen)
    assert sorted(f.value for f in seen) == [f"r{i}".encode() for i in range(5)]
    assert all(f.error for f in seen)
