"""Offsets and consumer lag, read from Kafka itself: per group and partition (:func:`group_lag`),
for the check-in path (:func:`pipeline_lag`), per topic (:func:`end_offsets`), and as
Prometheus gauges at scrape time (:class:`LagCollector`).

faust's own lag gauges live in the consumer and reset when partitions move; these are
computed from the group's committed offsets and the partitions' end offsets, as Kafka's
``kafka-consumer-groups --describe`` computes them, so they are right whichever process owns
the partitions, across rebalances and restarts. Results are cached for ``ttl_s`` so that
several scrapers do not multiply the admin requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
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


def group_lag(
    s: Settings, group: str, topics: list[str] | None = None, timeout: float = 10.0
) -> list[PartitionLag]:
    """Committed offset, end offset and lag for each partition a group has committed on.

    With ``topics``, every partition of those topics is listed, and a partition with no
    commit counts its whole content (from the earliest offset) as lag. Without, the group's
    commits are looked for on every topic of this deployment (its prefix).
    """
    admin = admin_client(s)  # kept referenced until its futures are resolved
    meta = admin.list_topics(timeout=timeout)
    missing = [t for t in topics or () if t not in meta.topics]
    if missing:
        raise KeyError(f"no such topic: {', '.join(missing)}")
    names = topics or [t for t in meta.topics if t.startswith(s.topic_prefix)]
    asked = [(t, p) for t in names for p in meta.topics[t].partitions]
    committed = committed_offsets(s, group, asked, timeout)
    wanted = set(asked) if topics else set(committed)
    if not wanted:
        return []
    ends, starts = _watermarks(admin, sorted(wanted), timeout)
    out = []
    for key in sorted(wanted):
        c = committed.get(key)
        base = c if c is not None else starts[key]
        out.append(PartitionLag(key[0], key[1], c, ends[key], max(0, ends[key] - base)))
    return out


def committed_offsets(
    s: Settings, group: str, partitions: list[tuple[str, int]], timeout: float = 10.0
) -> dict[tuple[str, int], int]:
    """The offsets ``group`` has committed on ``partitions`` (those it has not are left out).

    Asked through a consumer of that group that never joins it, not through the admin
    client: librdkafka's admin client dies of SIGSEGV when the group's coordinator answers
    NOT_COORDINATOR (a broker just started, a coordinator moving; confluentinc/librdkafka#5040,
    seen with confluent-kafka 2.16.2), where a consumer looks the coordinator up again.
    """
    if not partitions:
        return {}
    consumer = Consumer(librdkafka(s, f"{s.topic_prefix}-lag-reader", **{
        "group.id": group, "enable.auto.commit": False, "socket.timeout.ms": 10_000}))
    try:
        # a group coordinator still loading (a broker just started) answers "load in progress"
        found = retrying(lambda: consumer.committed(
            [TopicPartition(t, p) for t, p in partitions], timeout=timeout),
            f"offsets of group {group}", timeout)
    finally:
        consumer.close()
    failed = [tp for tp in found if tp.error is not None]
    if failed:
        raise KafkaException(failed[0].error)
    return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}


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

    return sum(p.lag for group, topics in pipeline_groups(s).items()
               for p in group_lag(s, group, topics))


def end_offsets(s: Settings, names: list[str], timeout: float = 10.0) -> dict[str, int]:
    """Per topic, the sum of its partitions' end offsets: records ever written (topics that
    do not exist count 0)."""
    admin = admin_client(s)
    meta = admin.list_topics(timeout=timeout)
    request = {TopicPartition(name, p): OffsetSpec.latest()
               for name in names if name in meta.topics for p in meta.topics[name].partitions}
    out = dict.fromkeys(names, 0)
    if request:
        for tp, f in admin.list_offsets(request, request_timeout=timeout).items():
            out[tp.topic] += f.result().offset
    return out


def all_group_lags(s: Settings) -> dict[str, list[PartitionLag]]:
    """Every consumer group of this deployment (prefix), with its lag per partition."""
    admin, _ = connect(s, 10)  # keep it referenced until the futures resolve
    listed = admin.list_consumer_groups(request_timeout=10).result()
    groups = sorted(g.group_id for g in listed.valid if g.group_id.startswith(s.topic_prefix))
    return {g: group_lag(s, g) for g in groups}


class LagCollector(Collector):
    def __init__(self, s: Settings, ttl_s: float = 5.0) -> None:
        self.s = s
        self.ttl_s = ttl_s
        self._cached: tuple[float, dict[str, list[PartitionLag]]] = (0.0, {})

    def lags(self) -> dict[str, list[PartitionLag]]:
        at, value = self._cached
        if time.monotonic() - at > self.ttl_s:
            try:
                value = all_group_lags(self.s)
                self._cached = (time.monotonic(), value)
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail with the broker
                log.warning("consumer lag unavailable: %s", exc)
        return value

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["group", "topic", "partition"]
        lag = GaugeMetricFamily(*metrics.CONSUMER_LAG, labels=labels)
        committed = GaugeMetricFamily(*metrics.CONSUMER_COMMITTED, labels=labels)
        end = GaugeMetricFamily(*metrics.TOPIC_END_OFFSET, labels=labels)
        for group, parts in self.lags().items():
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
