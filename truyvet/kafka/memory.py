"""An in-memory Kafka for one process (no broker, no network) for the jobs' unit tests; the
same suites run on a real cluster (``tests/suites``), so what it promises is what Kafka does:

- a partition is an append-only log; offsets start at 0 and only grow; records keep their
  timestamp (0 on produce: now); a record without a partition goes to murmur2(key) % n (a null
  key: round robin), like truyvet's real producers;
- a group spreads the partitions of its subscribed topics over its members (sorted by member,
  partition by partition); when a member joins or leaves, every member is revoked everything
  and assigned anew at its next ``consume`` (the eager protocol), positions starting from the
  group's committed offsets, or the earliest record;
- deliveries are reported from ``poll``/``flush``, in produce order; a record for a topic that
  does not exist fails with ``Unknown topic or partition`` (truyvet never auto-creates topics).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from truyvet.kafka.backend import Delivery, Partitions, RecordSink
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.record import EndOfPartition, Fed, Headers, Record, TopicPartition

UNKNOWN_TOPIC = "Broker: Unknown topic or partition"


@dataclass
class _Group:
    generation: int = 0
    members: list[MemoryGroupConsumer] = field(default_factory=list)
    committed: dict[TopicPartition, int] = field(default_factory=dict)


class MemoryBroker:
    """The shared state: create topics here, then hand :meth:`backend` to the code under test."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.logs: dict[str, list[list[Record]]] = {}
        self.groups: dict[str, _Group] = {}
        self._ids = itertools.count()

    def create_topic(self, name: str, partitions: int) -> None:
        with self.lock:
            self.logs.setdefault(name, [[] for _ in range(partitions)])

    def create_topics(self, specs: Iterable[Any]) -> None:
        """From ``truyvet.topics.catalogue(s)``: anything with ``name`` and ``partitions``."""
        for spec in specs:
            self.create_topic(spec.name, spec.partitions)

    def backend(self) -> MemoryBackend:
        return MemoryBackend(self)

    def records(self, topic: str) -> list[Record]:
        """Everything in a topic, partition by partition."""
        with self.lock:
            return [r for part in self.logs[topic] for r in part]

    def committed(self, group: str) -> dict[TopicPartition, int]:
        with self.lock:
            return dict(self.groups[group].committed) if group in self.groups else {}

    # --- used by the clients, under the lock -------------------------------------------------
    def _append(self, topic: str, partition: int | None, key: bytes | None, value: bytes | None,
                timestamp_ms: int, headers: Headers | None, rr: Callable[[int], int],
                ) -> tuple[str | None, int, int]:
        """(None or why it failed, the partition, the offset) of a record appended."""
        parts = self.logs.get(topic)
        if parts is None or (partition is not None and not 0 <= partition < len(parts)):
            return UNKNOWN_TOPIC, -1, -1
        if partition is None:
            partition = partition_of(key, len(parts)) if key is not None else rr(len(parts))
        log = parts[partition]
        log.append(Record(topic, partition, len(log), key, value,
                          timestamp_ms or int(time.time() * 1000), headers))
        self.lock.notify_all()
        return None, partition, len(log) - 1

    def _rebalance(self, group: str) -> None:
        g = self.groups[group]
        g.generation += 1
        self.lock.notify_all()

    def _assignment(self, group: str, member: MemoryGroupConsumer) -> list[TopicPartition]:
        g = self.groups[group]
        members = sorted(g.members, key=lambda m: m.member_id)
        mine = []
        everything = sorted({(t, p) for m in members for t in m.topics if t in self.logs
                             for p in range(len(self.logs[t]))})
        by_topic: dict[str, list[TopicPartition]] = {}
        for tp in everything:
            by_topic.setdefault(tp[0], []).append(tp)
        for tps in by_topic.values():  # co-partitioned topics: partition p of each together
            takers = [m for m in members if tps[0][0] in m.topics]
            mine += [tp for tp in tps if takers[tp[1] % len(takers)] is member]
        return sorted(mine)


class MemoryGroupConsumer:
    def __init__(self, broker: MemoryBroker, group: str, client_id: str,
                 on_commit_failed: Callable[[list[TopicPartition], str], None] | None,
                 partition_eof: bool = True) -> None:
        self.broker = broker
        self.group = group
        self.client_id = client_id
        self.member_id = f"{client_id}-{next(broker._ids):06d}"
        self.topics: list[str] = []
        self.partition_eof = partition_eof
        self._generation = -1
        self._assigned: list[TopicPartition] = []
        self._positions: dict[TopicPartition, int] = {}
        self._eof_said: set[TopicPartition] = set()
        self._callbacks: tuple[Partitions, Partitions, Partitions] | None = None
        self._closed = False

    def subscribe(self, topics: Sequence[str], on_assign: Partitions, on_revoke: Partitions,
                  on_lost: Partitions) -> None:
        with self.broker.lock:
            self.topics = list(topics)
            self._callbacks = (on_assign, on_revoke, on_lost)
            g = self.broker.groups.setdefault(self.group, _Group())
            g.members.append(self)
            self.broker._rebalance(self.group)

    def _sync(self) -> None:
        """Catch up with the group's generation: revoke everything, take the new share."""
        b = self.broker
        with b.lock:
            g = b.groups[self.group]
            if self._generation == g.generation:
                return
            generation = g.generation
            revoked = self._assigned
        assert self._callbacks is not None
        on_assign, on_revoke, _ = self._callbacks
        if revoked:
            on_revoke(list(revoked))
        with b.lock:
            self._generation = generation
            self._assigned = b._assignment(self.group, self)
            self._positions = {tp: g.committed.get(tp, 0) for tp in self._assigned}
            self._eof_said = set()
            assigned = list(self._assigned)
        on_assign(assigned)

    def consume(self, max_records: int, timeout_s: float) -> list[Record | EndOfPartition]:
        deadline = time.monotonic() + timeout_s
        while True:
            self._sync()
            with self.broker.lock:
                out = self._take(max_records)
                if out or self._closed:
                    return out
                left = deadline - time.monotonic()
                if left <= 0:
                    return out
                self.broker.lock.wait(min(left, 0.05))

    def _take(self, max_records: int) -> list[Record | EndOfPartition]:
        out: list[Record | EndOfPartition] = []
        for tp in self._assigned:
            log = self.broker.logs[tp[0]][tp[1]]
            at = self._positions[tp]
            if at < len(log):
                batch = log[at:at + max_records - len(out)]
                out.extend(batch)
                self._positions[tp] = at + len(batch)
                self._eof_said.discard(tp)
            if self.partition_eof and self._positions[tp] >= len(log) and tp not in self._eof_said:
                self._eof_said.add(tp)
                out.append(EndOfPartition(*tp))
            if len(out) >= max_records:
                break
        return out

    def committed(self, partitions: list[TopicPartition], timeout_s: float) -> dict[TopicPartition, int]:
        with self.broker.lock:
            c = self.broker.groups[self.group].committed
            return {tp: c.get(tp, 0) for tp in partitions}

    def commit(self, offsets: dict[TopicPartition, int], wait: bool) -> None:
        with self.broker.lock:
            self.broker.groups[self.group].committed.update(offsets)

    def close(self) -> None:
        """Leave the group (a graceful close: partitions revoked first, as librdkafka does)."""
        if self._closed:
            return
        if self._assigned and self._callbacks is not None:
            self._callbacks[1](list(self._assigned))
        with self.broker.lock:
            self._closed = True
            g = self.broker.groups[self.group]
            if self in g.members:
                g.members.remove(self)
                self.broker._rebalance(self.group)
            self._assigned = []


class MemoryReader:
    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker
        self._positions: dict[TopicPartition, int] = {}
        self._fetched: set[TopicPartition] = set()

    def partitions(self, topic: str, timeout_s: float) -> list[int]:
        with self.broker.lock:
            if topic not in self.broker.logs:
                raise LookupError(f"topic {topic}: unknown")
            return list(range(len(self.broker.logs[topic])))

    def watermarks(self, topic: str, partition: int, timeout_s: float,
                   cached: bool = False) -> tuple[int, int]:
        with self.broker.lock:
            if cached and (topic, partition) not in self._fetched:
                return -1, -1
            return 0, len(self.broker.logs[topic][partition])

    def assign(self, positions: dict[TopicPartition, int]) -> None:
        with self.broker.lock:
            self._positions = {tp: max(0, o) for tp, o in positions.items()}

    def consume(self, max_records: int, timeout_s: float) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        with self.broker.lock:
            while True:
                out: list[Record] = []
                for tp, at in self._positions.items():
                    log = self.broker.logs[tp[0]][tp[1]]
                    batch = log[at:at + max_records - len(out)]
                    out.extend(batch)
                    self._positions[tp] = at + len(batch)
                    self._fetched.add(tp)
                    if len(out) >= max_records:
                        break
                left = deadline - time.monotonic()
                if out or left <= 0:
                    return out
                self.broker.lock.wait(min(left, 0.05))

    def consume_into(self, sink: RecordSink, max_records: int, timeout_s: float) -> Fed:
        return Fed(*sink.feed_records(self.consume(max_records, timeout_s)))

    def close(self) -> None:
        self._positions = {}


class _Delivered(tuple[str, bytes | None, bytes | None, int, int]):
    """What a delivery report gives back: ``topic()``, ``key()``, ``value()``,
    ``partition()``, ``offset()``."""

    def topic(self) -> str:
        return self[0]

    def key(self) -> bytes | None:
        return self[1]

    def value(self) -> bytes | None:
        return self[2]

    def partition(self) -> int:
        return self[3]

    def offset(self) -> int:
        return self[4]


class _Error(str):
    def str(self) -> str:
        return str.__str__(self)


class MemoryProducer:
    def __init__(self, broker: MemoryBroker, only_errors: bool = False) -> None:
        self.broker = broker
        self.only_errors = only_errors  # librdkafka's delivery.report.only.error
        self._pending: list[tuple[Delivery, _Error | None, _Delivered]] = []
        self._rr = itertools.count()

    def produce(self, topic: str, key: bytes | str | None, value: bytes | None, *,
                partition: int | None = None, timestamp_ms: int = 0,
                headers: Headers | None = None, on_delivery: Delivery | None = None) -> None:
        raw_key = key.encode() if isinstance(key, str) else key
        with self.broker.lock:
            err, at, offset = self.broker._append(topic, partition, raw_key, value, timestamp_ms,
                                                  headers, lambda n: next(self._rr) % n)
        if on_delivery is not None and (err is not None or not self.only_errors):
            self._pending.append((on_delivery, None if err is None else _Error(err),
                                  _Delivered((topic, raw_key, value, at, offset))))

    def poll(self, timeout_s: float) -> int:
        served, self._pending = self._pending, []
        for cb, err, delivered in served:
            cb(err, delivered)
        return len(served)

    def flush(self, timeout_s: float) -> int:
        self.poll(0)
        return 0

    def pending(self) -> int:
        return len(self._pending)


class MemoryBackend:
    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    def group_consumer(self, group: str, client_id: str,
                       on_commit_failed: Callable[[list[TopicPartition], str], None] | None = None,
                       **config: Any) -> MemoryGroupConsumer:
        return MemoryGroupConsumer(self.broker, group, client_id, on_commit_failed,
                                   partition_eof=config.get("enable.partition.eof", True))

    def reader(self, client_id: str, **config: Any) -> MemoryReader:
        return MemoryReader(self.broker)

    def producer(self, client_id: str, **config: Any) -> MemoryProducer:
        return MemoryProducer(self.broker, bool(config.get("delivery.report.only.error")))
