"""The confluent-kafka (librdkafka) backend: what every truyvet process uses against a real
cluster. The only module whose consumers and producers see ``confluent_kafka`` objects; they
leave it as :class:`~truyvet.kafka.record.Record` tuples.

Client defaults that are part of truyvet's contract live here:
- group consumers commit only the offsets they are given (no auto-commit, no stored offsets:
  ``truyvet.jobs.runtime`` explains the data loss that prevents), start a new group at the
  earliest record, report partition ends, and leave a dead member's partitions to the others
  after 10 s;
- producers are idempotent with ``acks=all`` and partition with murmur2 like Java and aiokafka
  (``truyvet.kafka.partitioner``), so keys land where the stream jobs expect them;
- every client refreshes metadata every 2 s: a client whose metadata names a leader that has
  just died asks it until the next refresh (5 minutes by default; seen on a 3-node cluster).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka import TopicPartition as KafkaPartition

from truyvet.kafka.backend import Delivery, Partitions, RecordSink
from truyvet.kafka.config import librdkafka
from truyvet.kafka.record import EndOfPartition, Fed, Headers, Record, TopicPartition
from truyvet.settings import Settings

log = logging.getLogger(__name__)
_new = tuple.__new__
_EOF = KafkaError._PARTITION_EOF

FRESH_METADATA = {"topic.metadata.refresh.interval.ms": 2000}
# librdkafka stops fetching a partition once queued.min.messages (100,000) of its records wait
# in the consumer's queue, and fetches it again only after fetch.queue.backoff.ms: 1 s by
# default, though a reader here drains that many in a fraction of it. Every catch-up (the
# API's rebuild, a worker behind) waited out that second again and again: the API's rebuild
# of 4.96 M visits took 9.3-9.6 s with it, 5.3-5.7 s without (docs/benchmarks.md).
NO_FETCH_BACKOFF = {"fetch.queue.backoff.ms": 10}
# How long the broker may hold a fetch that finds no record: librdkafka's (and Kafka's) default.
# A record is sent as soon as there is one (fetch.min.bytes 1), so this only bounds how often
# an idle client asks. At 20 ms each of the API's eleven readers asked 50 times a second at rest,
# each ask waking the broker and the API: in the benchmark's paced idle phase the broker used
# 0.17-0.20 cores with 20 ms, 0.09-0.13 with 500 (docs/benchmarks.md, 2026-12-07). A partition
# newly assigned is fetched at once; a client assigned a new offset of a partition it reads
# waits for its fetch in flight first.
IDLE_FETCH_WAIT = {"fetch.wait.max.ms": 500}
GROUP_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "auto.offset.reset": "earliest",
    "enable.partition.eof": True,
    "session.timeout.ms": 10_000,
    "heartbeat.interval.ms": 3_000,
    "max.poll.interval.ms": 600_000,  # rebuilding a partition's state may take a while
    **IDLE_FETCH_WAIT,
    "queued.max.messages.kbytes": 128 * 1024,
    **NO_FETCH_BACKOFF,
    **FRESH_METADATA,
}
READER_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,
    "enable.partition.eof": False,
    "auto.offset.reset": "earliest",  # retention deleted what was next: go on from what is left
    **IDLE_FETCH_WAIT,
    **NO_FETCH_BACKOFF,
    **FRESH_METADATA,
}
PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "lz4",  # cheapest CPU per byte saved on a 2-core box
    "linger.ms": 10,
    "batch.size": 512 * 1024,
    "batch.num.messages": 20_000,
    "queue.buffering.max.messages": 200_000,  # the bound on records held in memory
    "queue.buffering.max.kbytes": 128 * 1024,
    "message.timeout.ms": 300_000,  # give up (and report) after 5 minutes of retries
    "partitioner": "murmur2_random",
}


def _record(m: Message) -> Record:
    return _new(Record, (m.topic(), m.partition(), m.offset(), m.key(), m.value(),
                         m.timestamp()[1], m.headers()))


def _parts(tps: list[KafkaPartition]) -> list[TopicPartition]:
    return [(tp.topic, tp.partition) for tp in tps]


class ConfluentGroupConsumer:
    def __init__(self, s: Settings, group: str, client_id: str,
                 on_commit_failed: Callable[[list[TopicPartition], str], None] | None,
                 **config: Any) -> None:
        self._on_commit_failed = on_commit_failed
        self._c = Consumer(librdkafka(s, client_id, **{
            "group.id": group, **GROUP_DEFAULTS, "on_commit": self._committed, **config}))

    def _committed(self, err: KafkaError | None, tps: list[KafkaPartition]) -> None:
        if err is not None and self._on_commit_failed is not None:
            self._on_commit_failed(_parts(tps), err.str())

    def subscribe(self, topics: Sequence[str], on_assign: Partitions, on_revoke: Partitions,
                  on_lost: Partitions) -> None:
        self._c.subscribe(list(topics), on_assign=lambda _, tps: on_assign(_parts(tps)),
                          on_revoke=lambda _, tps: on_revoke(_parts(tps)),
                          on_lost=lambda _, tps: on_lost(_parts(tps)))

    def consume(self, max_records: int, timeout_s: float) -> list[Record | EndOfPartition]:
        out: list[Record | EndOfPartition] = []
        for m in self._c.consume(max_records, timeout_s):
            err = m.error()
            if err is None:
                out.append(_new(Record, (m.topic(), m.partition(), m.offset(), m.key(), m.value(),
                                         m.timestamp()[1], m.headers())))
            elif err.code() == _EOF:
                out.append(EndOfPartition(m.topic(), m.partition()))
            else:
                log.warning("%s: %s", m.topic(), err)
        return out

    def committed(self, partitions: list[TopicPartition], timeout_s: float) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        got = self._c.committed([KafkaPartition(t, p) for t, p in partitions], timeout=timeout_s)
        return {(tp.topic, tp.partition): max(tp.offset, 0) for tp in got}

    def commit(self, offsets: dict[TopicPartition, int], wait: bool) -> None:
        self._c.commit(offsets=[KafkaPartition(t, p, o) for (t, p), o in offsets.items()],
                       asynchronous=not wait)

    def close(self) -> None:
        self._c.close()


class ConfluentReader:
    def __init__(self, s: Settings, client_id: str, **config: Any) -> None:
        self._c = Consumer(librdkafka(s, client_id, **{
            "group.id": f"{s.topic_prefix}-{client_id}-unused",  # never joins: assigned by hand
            **READER_DEFAULTS, **config}))

    def partitions(self, topic: str, timeout_s: float) -> list[int]:
        meta = self._c.list_topics(topic, timeout=timeout_s).topics[topic]
        if meta.error is not None or not meta.partitions:
            raise LookupError(f"topic {topic}: {meta.error or 'no partitions yet'}")
        return sorted(meta.partitions)

    def watermarks(self, topic: str, partition: int, timeout_s: float,
                   cached: bool = False) -> tuple[int, int]:
        tp = KafkaPartition(topic, partition)
        if cached:
            low, high = self._c.get_watermark_offsets(tp, cached=True)
        else:
            low, high = self._c.get_watermark_offsets(tp, timeout=timeout_s)
        return int(low), int(high)

    def assign(self, positions: dict[TopicPartition, int]) -> None:
        self._c.assign([KafkaPartition(t, p, o) for (t, p), o in positions.items()])

    def consume(self, max_records: int, timeout_s: float) -> list[Record]:
        out = []
        for m in self._c.consume(max_records, timeout_s):
            err = m.error()
            if err is None:
                out.append(_record(m))
            elif err.code() != _EOF:
                log.warning("reading %s: %s", m.topic(), err)
        return out

    def consume_into(self, sink: RecordSink, max_records: int, timeout_s: float) -> Fed:
        fed = Fed(*sink.feed_messages(self._c.consume(max_records, timeout_s)))
        for m in fed.errors:
            if m.error().code() != _EOF:
                log.warning("reading %s: %s", m.topic(), m.error())
        return fed

    def close(self) -> None:
        self._c.close()


class ConfluentProducer:
    """librdkafka's messages and errors serve as the ``Delivered`` and ``DeliveryError`` of
    delivery reports as they are (no wrapper per record)."""

    def __init__(self, s: Settings, client_id: str, **config: Any) -> None:
        self._p = Producer(librdkafka(s, client_id, **{**PRODUCER_DEFAULTS, **config}))

    def produce(self, topic: str, key: bytes | str | None, value: bytes | None, *,
                partition: int | None = None, timestamp_ms: int = 0,
                headers: Headers | None = None, on_delivery: Delivery | None = None) -> None:
        self._p.produce(topic, value, key, partition=-1 if partition is None else partition,
                        on_delivery=on_delivery, timestamp=timestamp_ms, headers=headers)

    def poll(self, timeout_s: float) -> int:
        return int(self._p.poll(timeout_s))

    def flush(self, timeout_s: float) -> int:
        return int(self._p.flush(timeout_s))

    def pending(self) -> int:
        return len(self._p)


class ConfluentBackend:
    def __init__(self, s: Settings) -> None:
        self.s = s

    def group_consumer(self, group: str, client_id: str,
                       on_commit_failed: Callable[[list[TopicPartition], str], None] | None = None,
                       **config: Any) -> ConfluentGroupConsumer:
        return ConfluentGroupConsumer(self.s, group, client_id, on_commit_failed, **config)

    def reader(self, client_id: str, **config: Any) -> ConfluentReader:
        return ConfluentReader(self.s, client_id, **config)

    def producer(self, client_id: str, **config: Any) -> ConfluentProducer:
        return ConfluentProducer(self.s, client_id, **config)

