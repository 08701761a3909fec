"""A durable producer usable from asyncio: await a record's acknowledgement, or fire and
account. Delivery reports are served by a background thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from truyvet.kafka.backend import Backend, Delivered, DeliveryError
from truyvet.kafka.producer import default_backend, track
from truyvet.kafka.record import Headers
from truyvet.kafka.retry import BrokerError
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    """The broker did not acknowledge a record (after every retry)."""


class Unavailable(DeliveryFailed):
    """Kafka did not take or acknowledge a record in time: the producer's queue is full, or no
    acknowledgement came within the send timeout (the broker away). The record may still be
    delivered later; the caller was told it was not."""


@dataclass
class Counts:
    """Delivery accounting (updated from the delivery thread; read at scrape time)."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0

    def settled(self, ok: bool) -> None:
        if ok:
            self.delivered += 1
        else:
            self.failed += 1

    def refused(self) -> None:  # the client refused it outright: never sent
        self.sent += 1
        self.failed += 1

    @property
    def in_flight(self) -> int:
        return self.sent - self.delivered - self.failed


class AsyncProducer:
    def __init__(self, s: Settings, client_id: str, backend: Backend | None = None,
                 send_timeout_s: float | None = None, **config: Any) -> None:
        self.send_timeout_s = send_timeout_s  # the longest :meth:`send` waits (None: no bound)
        self._producer = (backend or default_backend(s)).producer(
            client_id, **{"linger.ms": 1, **config})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"{client_id}-deliveries",
                                        daemon=True)
        self._thread.start()
        self.client_id = client_id
        self.stats = Counts()
        track(self)

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    async def send(self, topic: str, key: bytes | str | None, value: bytes | None,
                   headers: Headers | None = None, timestamp_ms: int = 0) -> tuple[int, int]:
        """Resolves when the broker has acknowledged the record (acks=all), to the record's
        (partition, offset); raises :class:`DeliveryFailed` if it did not, :class:`Unavailable`
        if it did not in time. Never blocks the event loop."""
        return await self.sending(topic, key, value, headers, timestamp_ms)

    def sending(self, topic: str, key: bytes | str | None, value: bytes | None,
                headers: Headers | None = None, timestamp_ms: int = 0,
                ) -> Awaitable[tuple[int, int]]:
        """:meth:`send`, the record handed to the client now (its queue full: raises
        :class:`Unavailable` now): the caller may do other work while Kafka acknowledges it,
        then await what this returns."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[int, int]] = loop.create_future()

        def delivered(err: DeliveryError | None, record: Delivered) -> None:
            self.stats.settled(err is None)
            why = None if err is None else err.str()
            where = (record.partition(), record.offset()) if why is None else (-1, -1)

            def settle() -> None:
                if done.done():
                    return
                if why is None:
                    done.set_result(where)
                else:
                    done.set_exception(DeliveryFailed(f"{topic}: {why}"))
            loop.call_soon_threadsafe(settle)

        self._produce(topic, key, value, headers, delivered, timestamp_ms)
        return self._acknowledged(topic, done)

    async def _acknowledged(self, topic: str, done: asyncio.Future[tuple[int, int]],
                            ) -> tuple[int, int]:
        if self.send_timeout_s is None:
            return await done
        try:
            return await asyncio.wait_for(done, self.send_timeout_s)
        except TimeoutError:
            raise Unavailable(f"{topic}: not acknowledged within {self.send_timeout_s:g}s") from None

    def send_nowait(self, topic: str, key: bytes | str | None, value: bytes | None,
                    headers: Headers | None = None, timestamp_ms: int = 0,
                    partition: int | None = None) -> None:
        """Queue a record; a failed delivery, or a record the client refuses outright (too
        large), is logged and counted in ``stats.failed``, never raised to the caller."""
        try:
            self._produce(topic, key, value, headers, self._report, timestamp_ms, partition)
        except (BrokerError, Unavailable) as exc:  # refused by the client (too large, queue full)
            self.stats.refused()
            log.error("record for %s refused (%d bytes): %s", topic, len(value or b""), exc)

    def _report(self, err: DeliveryError | None, record: Delivered) -> None:
        self.stats.settled(err is None)
        if err is not None:
            log.error("delivery to %s failed: %s", record.topic(), err.str())

    def _produce(self, topic: str, key: Any, value: Any, headers: Any, cb: Any,
                 timestamp_ms: int = 0, partition: int | None = None) -> None:
        """Hand the record to the client; its queue full (a broker away for long), serve the
        delivery reports once and try again, then raise :class:`Unavailable`: a caller on the
        event loop must never wait here."""
        for attempt in range(2):
            try:
                self._producer.produce(topic, key, value, headers=headers, on_delivery=cb,
                                       timestamp_ms=timestamp_ms,  # 0: now
                                       partition=partition)  # None: murmur2 of the key
                self.stats.sent += 1
                return
            except BufferError:
                if attempt == 0:
                    self._producer.poll(0)
        raise Unavailable(f"{topic}: the producer's queue is full (Kafka away?)")

    def flush(self, timeout: float) -> int:
        """Wait (blocking: not on the event loop) until every record queued is delivered or
        failed; returns how many are still pending after ``timeout``."""
        return self._producer.flush(timeout)

    def close(self, timeout: float = 30.0) -> int:
        self._stop.set()
        self._thread.join(5)
        return self._producer.flush(timeout)
