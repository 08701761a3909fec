"""A durable Kafka producer (confluent-kafka) with bounded buffering and delivery accounting.

Contract:
- idempotent, ``acks=all``: a record the broker acknowledged is on every in-sync replica, and
  retries never duplicate it;
- partitioned with murmur2 like Java and aiokafka, so keys land where the stream jobs expect
  (the backend's defaults: ``truyvet.kafka.confluent``);
- :meth:`send` never drops: when the local buffer is full it serves delivery reports until
  there is room (backpressure), and it raises only for errors that retrying cannot fix;
- every record ends in exactly one of ``delivered`` or ``failures`` (after ``message.timeout.ms``
  of retries at most); nothing is counted twice or forgotten. The client reports failures only
  (``delivery.report.only.error``: a report per acknowledged record cost the stream jobs ~10 %
  of their time, docs/benchmarks.md); a record neither failed nor still pending in the client
  was acknowledged, so ``delivered`` is counted from those two whenever deliveries are served.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from truyvet import metrics
from truyvet.kafka.backend import Backend, Delivered, DeliveryError
from truyvet.kafka.record import Headers
from truyvet.settings import Settings

log = logging.getLogger(__name__)


def default_backend(s: Settings) -> Backend:
    """The confluent-kafka backend: what a process uses unless a test gives it another."""
    from truyvet.kafka.confluent import ConfluentBackend

    return ConfluentBackend(s)


@dataclass
class Failure:
    topic: str
    key: bytes | None
    value: bytes | None
    error: str


@dataclass
class DeliveryStats:
    sent: int = 0  # handed to the client
    delivered: int = 0  # acknowledged by the broker
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def in_flight(self) -> int:
        return self.sent - self.delivered - len(self.failures)


class DurableProducer:
    def __init__(
        self,
        s: Settings,
        client_id: str,
        on_failure: Callable[[Failure], None] | None = None,
        backend: Backend | None = None,
        poll_every: int | None = 1000,
        **config: Any,
    ) -> None:
        """``poll_every``: serve delivery reports every this many sends (None: only in
        :meth:`poll`, :meth:`flush` and when the client's queue is full -- a stream job
        flushes on its own schedule, and every call into the client hands the interpreter
        lock to another thread and waits to get it back)."""
        self._poll_every = poll_every or 0
        self._producer = (backend or default_backend(s)).producer(
            client_id, **{"delivery.report.only.error": True, **config})
        self.client_id = client_id
        self.stats = DeliveryStats()
        self._on_failure = on_failure
        track(self)

    def send(
        self, topic: str, key: bytes | str | None, value: bytes | None,
        headers: Headers | None = None, partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        produce = self._producer.produce
        ts = timestamp_ms or 0  # 0: now
        while True:
            try:
                produce(topic, key, value, partition=partition, timestamp_ms=ts, headers=headers,
                        on_delivery=self._delivered)
                break
            except BufferError:  # local queue full: wait for the broker to catch up
                self._producer.poll(0.05)
        self.stats.sent += 1
        if self._poll_every and self.stats.sent % self._poll_every == 0:
            self.poll(0)

    def _settled(self) -> None:
        """After deliveries were served: what is neither failed nor pending was delivered."""
        stats = self.stats
        stats.delivered = stats.sent - len(stats.failures) - self._producer.pending()

    def _delivered(self, err: DeliveryError | None, record: Delivered) -> None:
        if err is None:  # only if the client was configured to report every delivery
            return
        failure = Failure(record.topic(), record.key(), record.value(), err.str())
        self.stats.failures.append(failure)
        log.error("delivery to %s failed: %s", failure.topic, failure.error)
        if self._on_failure is not None:
            self._on_failure(failure)

    def poll(self, timeout: float = 0.0) -> None:
        self._producer.poll(timeout)
        self._settled()

    def flush(self, timeout: float = 330.0) -> int:
        """Wait for every record to be delivered or failed; returns how many are still
        pending after ``timeout`` (0 normally: message.timeout.ms is shorter)."""
        left = self._producer.flush(timeout)
        self._settled()
        return left


# Every live producer's accounting, exported at scrape time: counting in the delivery callback
# itself would add a lock per record to the hottest loop of `truyvet publish`.
_LIVE: weakref.WeakSet[Any] = weakref.WeakSet()  # with .client_id and .stats (delivered,
# failed, in_flight): DurableProducer and the API's AsyncProducer


def track(producer: Any) -> None:
    _LIVE.add(producer)


class ProducerCollector(Collector):
    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        published = CounterMetricFamily(*metrics.RECORDS_PUBLISHED, labels=["client"])
        failed = CounterMetricFamily(*metrics.PUBLISH_FAILURES, labels=["client"])
        in_flight = GaugeMetricFamily(*metrics.PUBLISH_IN_FLIGHT, labels=["client"])
        totals: dict[str, list[int]] = {}
        for p in list(_LIVE):
            t = totals.setdefault(p.client_id, [0, 0, 0])
            t[0] += p.stats.delivered
            t[1] += p.stats.failed
            t[2] += p.stats.in_flight
        for client, (ok, bad, pending) in sorted(totals.items()):
            published.add_metric([client], ok)
            failed.add_metric([client], bad)
            in_flight.add_metric([client], pending)
        yield published
        yield failed
        yield in_flight


_registered = threading.Lock()
_collector: ProducerCollector | None = None


def export_metrics() -> None:
    """Register the producers' collector with the default registry (once per process)."""
    global _collector
    with _registered:
        if _collector is None:
            _collector = ProducerCollector()
            REGISTRY.register(_collector)
