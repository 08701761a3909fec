"""Following a whole topic from its beginning, in a background thread (no consumer group).

Used where every process needs *all* of a topic: the tracer API's visit index, the venue
registry, standing itineraries. ``on_batch`` runs in the follower's thread, in offset order
per partition. :meth:`TopicFollower.wait_caught_up` blocks until everything that was in the
topic when the follower started has been handed to ``on_batch``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from truyvet.kafka.retry import BROKER_AWAY_S, retrying
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class TopicFollower:
    def __init__(
        self,
        s: Settings,
        topic: str,
        on_batch: Callable[[list[Message]], None],
        name: str,
        batch_size: int = 10_000,
        poll_timeout: float = 0.05,
    ) -> None:
        self.topic = topic
        self.name = name
        self._on_batch = on_batch
        self._batch_size = batch_size
        self._poll_timeout = poll_timeout
        self._consumer = Consumer({
            "bootstrap.servers": s.bootstrap_servers,
            "group.id": f"{s.topic_prefix}-{name}-unused",  # never joins: partitions are assigned
            **FRESH_METADATA,
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            # if retention deletes what we were about to read, go on from what is left
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 20,
            "queued.max.messages.kbytes": 256 * 1024,
            "client.id": f"truyvet-{name}",
        })
        self._stop = threading.Event()
        self._caught_up = threading.Event()
        self._targets: dict[int, int] = {}
        self.positions: dict[int, int] = {}  # partition -> next offset to hand over
        self.records = 0
        self._behind: int | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"follow-{topic}", daemon=True)

    def start(self, timeout: float = 30.0) -> TopicFollower:
        deadline = time.monotonic() + timeout
        while True:  # a topic created a moment ago may not be in every broker's metadata yet
            meta = self._consumer.list_topics(self.topic, timeout=timeout).topics[self.topic]
            if meta.error is None and meta.partitions:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"topic {self.topic}: {meta.error}")
            time.sleep(0.2)
        parts = sorted(meta.partitions)
        for p in parts:
            low, high = _watermarks(self._consumer, TopicPartition(self.topic, p), deadline)
            self.positions[p] = low
            if high > low:
                self._targets[p] = high
        if not self._targets:
            self._caught_up.set()
        self._consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in parts])
        self._thread.start()
        return self

    def wait_caught_up(self, timeout: float | None = None) -> bool:
        return self._caught_up.wait(timeout)

    @property
    def caught_up(self) -> bool:
        return self._caught_up.is_set()

    def behind(self) -> int | None:
        """Records of the topic not handed over yet, by the end offsets the last fetches saw;
        None before every partition was fetched. (Worked out on the follower's thread: asking
        its consumer from another thread while it consumes blocks.)"""
        return self._behind

    def _count_behind(self) -> int | None:
        total = 0
        for p, position in self.positions.items():
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, p),
                                                               cached=True)
            except KafkaException:
                return None
            if high < 0:  # not fetched yet
                return None
            total += max(0, high - position)
        return total

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                msgs = self._consumer.consume(self._batch_size, self._poll_timeout)
            except Exception as exc:  # noqa: BLE001 - keep following; say why
                log.exception("following %s failed; retrying", self.topic)
                self.error = exc
                time.sleep(1)
                continue
            good = []
            for m in msgs:
                err = m.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        log.warning("following %s: %s", self.topic, err)
                    continue
                good.append(m)
            if good:
                try:
                    self._on_batch(good)
                except Exception as exc:  # noqa: BLE001 - a bad batch must not stop the follower
                    log.exception("handling %d records of %s failed", len(good), self.topic)
                    self.error = exc
                for m in good:
                    self.positions[m.partition()] = m.offset() + 1
                self.records += len(good)
            self._behind = self._count_behind()
            if not self._caught_up.is_set() and all(
                self.positions.get(p, 0) >= end for p, end in self._targets.items()
            ):
                self._caught_up.set()


def _watermarks(consumer: Consumer, tp: TopicPartition, deadline: float) -> tuple[int, int]:
    """Low and high offsets; retried while the partition has no leader (new topic, broker away)."""
    return retrying(lambda: consumer.get_watermark_offsets(tp, timeout=10),
                    f"watermarks of {tp.topic}[{tp.partition}]", deadline - time.monotonic())


# A client's metadata can name a leader that has just died; librdkafka then sends offset
# requests to it until its next periodic refresh (5 minutes by default): seen on a 3-node
# cluster when a job rebuilt its state right after a broker was killed. Short refreshes, and a
# new client for each attempt at the watermarks, follow the cluster's new leaders.
FRESH_METADATA = {"topic.metadata.refresh.interval.ms": 2000}


def _low_watermark(s: Settings, topic: str, partition: int) -> int:
    def attempt() -> int:
        c = Consumer({"bootstrap.servers": s.bootstrap_servers, "group.id": "unused",
                      **FRESH_METADATA})
        try:
            return int(c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[0])
        finally:
            c.close()
    return retrying(attempt, f"watermarks of {topic}[{partition}]", BROKER_AWAY_S)


def read_partition(
    s: Settings, topic: str, partition: int, until: int, batch_size: int = 10_000,
) -> list[list[Message]]:
    """The records of one partition from its beginning up to offset ``until`` (exclusive),
    in batches. Blocking; used to rebuild a partition's state before processing it."""
    if until <= 0:
        return []  # nothing committed yet: nothing to rebuild
    low = _low_watermark(s, topic, partition)
    if until <= low:
        return []
    consumer = Consumer({"bootstrap.servers": s.bootstrap_servers, "group.id": "unused",
                         **FRESH_METADATA, "enable.auto.commit": False, "fetch.wait.max.ms": 20,
                         "auto.offset.reset": "earliest"})
    try:
        consumer.assign([TopicPartition(topic, partition, low)])
        out: list[list[Message]] = []
        next_offset = low
        idle_since = time.monotonic()
        while next_offset < until:
            msgs = [m for m in consumer.consume(batch_size, 0.5) if m.error() is None]
            if not msgs:
                if time.monotonic() - idle_since > BROKER_AWAY_S:
                    raise TimeoutError(f"{topic}[{partition}]: stuck at {next_offset} < {until}")
                continue
            idle_since = time.monotonic()
            keep = [m for m in msgs if m.offset() < until]
            if keep:
                out.append(keep)
            next_offset = msgs[-1].offset() + 1
        return out
    finally:
        consumer.close()
