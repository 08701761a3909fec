"""Consumer lag as Prometheus gauges, read from Kafka itself at scrape time.

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

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from truyvet import metrics
from truyvet.kafka.admin import PartitionLag, admin_client, group_lag
from truyvet.settings import Settings

log = logging.getLogger(__name__)


def all_group_lags(s: Settings) -> dict[str, list[PartitionLag]]:
    """Every consumer group of this deployment (prefix), with its lag per partition."""
    admin = admin_client(s)  # keep it referenced until the futures resolve
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
