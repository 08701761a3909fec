"""Offsets and consumer lag, read from Kafka itself: per group and partition (:func:`group_lag`),
for the check-in path (:func:`pipeline_lag`), per topic (:func:`end_offsets`), and as
Prometheus gauges at scrape time (:class:`LagCollector`); a process that reads them again and
again keeps its clients in a :class:`LagReader`.

faust's own lag gauges live in the consumer and reset when partitions move; these are
computed from the group's committed offsets and the partitions' end offsets, as Kafka's
``kafka-consumer-groups --describe`` computes them, so they are right whichever process owns
the partitions, across rebalances and restarts. Results are cached for ``ttl_s`` so that
several scrapers do not multiply the admin requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ClusterMetadata, OffsetSpec
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from truyvet import metrics
from truyvet.kafka.admin import admin_client, connect
from truyvet.kafka.config import librdkafka
from truyvet.kafka.retry import retrying
from truyvet.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group has committed nothing for this partition
    end: int
    lag: int


class LagReader:
    """Offsets and lag read through clients kept for the reader's life: one admin client, and
    one consumer per group asked about (a consumer's group is set when it is made; it never
    joins the group). A process that samples lag every few seconds -- the API's operations
    monitor, ``/metrics`` -- made an admin client and a consumer per group at every sample:
    0.3-0.7 s of wall time, 33-54 ms of its own CPU and 94-212 ms of the broker's for six
    groups, against 20 ms, 8-10 ms and 13-23 ms through kept clients (a throwaway probe,
    2026-12-08, ``docs/benchmarks.md``). One call at a time (a lock);
    :meth:`close` closes the clients. The module's functions each use a reader once."""

    def __init__(self, s: Settings, timeout: float = 10.0,
                 admin: AdminClient | None = None) -> None:
        self.s = s
        self.timeout = timeout
        self._lock = threading.Lock()
        self._admin = admin  # made when first needed, unless given
        self._offsets: dict[str, Consumer] = {}  # group -> its offsets reader
        self._closed = False  # then nothing is asked again (no client made again)

    def __enter__(self) -> LagReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the clients; a call in flight (the broker away: up to the timeout) closes
        them when it ends: a process stopping does not wait for it."""
        self._closed = True
        self._close_if_free()

    @contextmanager
    def _one_call(self) -> Iterator[None]:
        try:
            with self._lock:
                if self._closed:  # (a sample racing the process's stop)
                    raise RuntimeError("the lag reader is closed")
                yield
        finally:
            # closed meanwhile: looked at once the lock is given back, so that a close that
            # found it taken, however late in the call, is seen here or finds it free
            if self._closed:
                self._close_if_free()

    def _close_if_free(self) -> None:
        """Close the clients unless a call holds them (it closes them when it ends)."""
        if self._lock.acquire(blocking=False):
            try:
                self._close_clients()
            finally:
                self._lock.release()

    def _close_clients(self) -> None:
        consumers, self._offsets, self._admin = list(self._offsets.values()), {}, None
        for consumer in consumers:
            consumer.close()

    def group_lag(self, group: str, topics: list[str] | None = None) -> list[PartitionLag]:
        """Committed offset, end offset and lag for each partition a group has committed on.

        With ``topics``, every partition of those topics is listed, and a partition with no
        commit counts its whole content (from the earliest offset) as lag. Without, the
        group's commits are looked for on every topic of this deployment (its prefix)."""
        with self._one_call():
            return self._group_lag(group, topics, self._admin_client().list_topics(
                timeout=self.timeout))

    def all_group_lags(self) -> dict[str, list[PartitionLag]]:
        """Every consumer group of this deployment (prefix), with its lag per partition."""
        with self._one_call():
            admin = self._admin_client()
            listed = admin.list_consumer_groups(request_timeout=self.timeout).result()
            groups = sorted(g.group_id for g in listed.valid
                            if g.group_id.startswith(self.s.topic_prefix))
            for gone in set(self._offsets) - set(groups):  # a group deleted: its reader too
                self._offsets.pop(gone).close()
            meta = admin.list_topics(timeout=self.timeout)
            return {g: self._group_lag(g, None, meta) for g in groups}

    def end_offsets(self, names: list[str]) -> dict[str, int]:
        """Per topic, the sum of its partitions' end offsets: records ever written (topics
        that do not exist count 0)."""
        with self._one_call():
            admin = self._admin_client()
            meta = admin.list_topics(timeout=self.timeout)
            request = {TopicPartition(name, p): OffsetSpec.latest() for name in names
                       if name in meta.topics for p in meta.topics[name].partitions}
            out = dict.fromkeys(names, 0)
            if request:
                for tp, f in admin.list_offsets(request, request_timeout=self.timeout).items():
                    out[tp.topic] += f.result().offset
            return out

    def _admin_client(self) -> AdminClient:
        if self._admin is None:
            self._admin = admin_client(self.s)
        self._admin.poll(0)  # its error events served, not queued for the process's life
        return self._admin

    def _group_lag(self, group: str, topics: list[str] | None, meta: ClusterMetadata,
                   ) -> list[PartitionLag]:
        missing = [t for t in topics or () if t not in meta.topics]
        if missing:
            raise KeyError(f"no such topic: {', '.join(missing)}")
        names = topics or [t for t in meta.topics if t.startswith(self.s.topic_prefix)]
        asked = [(t, p) for t in names for p in meta.topics[t].partitions]
        committed = self._committed(group, asked)
        wanted = set(asked) if topics else set(committed)
        if not wanted:
            return []
        ends, starts = _watermarks(self._admin_client(), sorted(wanted), self.timeout)
        out = []
        for key in sorted(wanted):
            c = committed.get(key)
            base = c if c is not None else starts[key]
            out.append(PartitionLag(key[0], key[1], c, ends[key], max(0, ends[key] - base)))
        return out

    def _committed(self, group: str, partitions: list[tuple[str, int]]
                   ) -> dict[tuple[str, int], int]:
        """The offsets ``group`` has committed on ``partitions`` (those it has not are left
        out).

        Asked through a consumer of that group that never joins it, not through the admin
        client: librdkafka's admin client dies of SIGSEGV when the group's coordinator answers
        NOT_COORDINATOR (a broker just started, a coordinator moving;
        confluentinc/librdkafka#5040, seen with confluent-kafka 2.16.2), where a consumer
        looks the coordinator up again. Each call asks the coordinator (nothing is cached)."""
        if not partitions:
            return {}
        consumer = self._offsets.get(group)
        if consumer is None:
            consumer = self._offsets[group] = Consumer(librdkafka(
                self.s, f"{self.s.topic_prefix}-lag-reader", **{
                    "group.id": group, "enable.auto.commit": False,
                    "socket.timeout.ms": 10_000}))
        consumer.poll(0)  # (as the admin client's; it is assigned nothing: no record comes)
        # a group coordinator still loading (a broker just started) answers "load in progress"
        found = retrying(lambda: consumer.committed(
            [TopicPartition(t, p) for t, p in partitions], timeout=self.timeout),
            f"offsets of group {group}", self.timeout)
        failed = [tp for tp in found if tp.error is not None]
        if failed:
            raise KafkaException(failed[0].error)
        return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}


def group_lag(
    s: Settings, group: str, topics: list[str] | None = None, timeout: float = 10.0
) -> list[PartitionLag]:
    """:meth:`LagReader.group_lag`, once."""
    with LagReader(s, timeout) as reader:
        return reader.group_lag(group, topics)


def _watermarks(
    admin: AdminClient, tps: list[tuple[str, int]], timeout: float
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    ends_req = {TopicPartition(t, p): OffsetSpec.latest() for t, p in tps}
    starts_req = {TopicPartition(t, p): OffsetSpec.earliest() for t, p in tps}
    ends = {
        (tp.topic, tp.partition): f.result().offset
        for tp, f in admin.list_offsets(ends_req, request_timeout=timeout).items()
    }
    starts = {
        (tp.topic, tp.partition): f.result().offset
        for tp, f in admin.list_offsets(starts_req, request_timeout=timeout).items()
    }
    return ends, starts


def pipeline_lag(s: Settings) -> int:
    """Records published to the check-in path and not yet processed (all its groups)."""
    from truyvet.topics import pipeline_groups

    with LagReader(s) as reader:
        return sum(p.lag for group, topics in pipeline_groups(s).items()
                   for p in reader.group_lag(group, topics))


def end_offsets(s: Settings, names: list[str], timeout: float = 10.0) -> dict[str, int]:
    """:meth:`LagReader.end_offsets`, once."""
    with LagReader(s, timeout) as reader:
        return reader.end_offsets(names)


def all_group_lags(s: Settings) -> dict[str, list[PartitionLag]]:
    """:meth:`LagReader.all_group_lags`, once; a cluster refusing the credentials or away
    raises :class:`~truyvet.kafka.admin.BrokerRefused` or ``BrokerUnreachable`` (``truyvet
    status`` says it in one line)."""
    admin, _ = connect(s, 10)
    with LagReader(s, admin=admin) as reader:
        return reader.all_group_lags()


class LagCollector(Collector):
    """The lag of every group of this deployment as Prometheus gauges, read at most every
    ``ttl_s`` through one :class:`LagReader` (:attr:`reader`, kept until :meth:`close`).

    A read runs in a thread of its own, one at a time; a scrape waits for it at most
    ``scrape_wait_s``, then is answered with the last lag read (and
    ``truyvet_consumer_lag_age_seconds``). With the broker away a read takes the reader's
    timeout (10 s): a scrape that waited for it took 10-22 s, past Prometheus's default
    scrape timeout, and the process looked down when Kafka was (2026-12-08)."""

    def __init__(self, s: Settings, ttl_s: float = 5.0, scrape_wait_s: float = 2.0) -> None:
        self.ttl_s = ttl_s
        self.scrape_wait_s = scrape_wait_s
        self.reader = LagReader(s)
        self._cached: tuple[float, dict[str, list[PartitionLag]]] | None = None  # (when, lag)
        self._lock = threading.Lock()
        self._tried_at = float("-inf")  # the last read started (failed ones too)
        self._reading: threading.Event | None = None  # set when the read in flight ends

    def close(self) -> None:
        self.reader.close()

    def lags(self, wait_s: float | None = None) -> dict[str, list[PartitionLag]]:
        """The last lag read (``{}``: none yet); a new read is started when the last one
        started more than ``ttl_s`` ago, and waited for up to ``wait_s`` (None: to its end)."""
        latest = self._latest(wait_s)
        return {} if latest is None else latest[1]

    def _latest(self, wait_s: float | None) -> tuple[float, dict[str, list[PartitionLag]]] | None:
        """:meth:`lags`, with when it was read."""
        with self._lock:
            if self._reading is None and time.monotonic() - self._tried_at > self.ttl_s:
                self._tried_at = time.monotonic()
                self._reading = threading.Event()
                threading.Thread(target=self._read, args=(self._reading,), name="lag-read",
                                 daemon=True).start()
            reading = self._reading
        if reading is not None:
            reading.wait(wait_s)
        return self._cached

    def _read(self, done: threading.Event) -> None:
        try:
            self._cached = (time.monotonic(), self.reader.all_group_lags())
        except Exception as exc:  # noqa: BLE001 - the broker away: the last lag is served
            log.warning("consumer lag unavailable: %s", exc)
        finally:
            with self._lock:
                self._reading = None
            done.set()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["group", "topic", "partition"]
        lag = GaugeMetricFamily(*metrics.CONSUMER_LAG, labels=labels)
        committed = GaugeMetricFamily(*metrics.CONSUMER_COMMITTED, labels=labels)
        end = GaugeMetricFamily(*metrics.TOPIC_END_OFFSET, labels=labels)
        latest = self._latest(self.scrape_wait_s)
        if latest is not None:  # (none read yet: no gauge)
            yield GaugeMetricFamily(*metrics.CONSUMER_LAG_AGE,
                                    value=round(time.monotonic() - latest[0], 1))
        for group, parts in (latest[1] if latest is not None else {}).items():
            for p in parts:
                key = [group, p.topic, str(p.partition)]
                lag.add_metric(key, p.lag)
                committed.add_metric(key, -1 if p.committed is None else p.committed)
                end.add_metric(key, p.end)
        yield lag
        yield committed
        yield end


def register(s: Settings) -> LagCollector:
    from prometheus_client import REGISTRY

    collector = LagCollector(s)
    REGISTRY.register(collector)
    return collector
