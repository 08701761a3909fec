"""Reading whole topics without a consumer group.

:class:`TopicFollower` follows a topic from its beginning in a background thread, for what
every process needs *all* of (the tracer API's visit index, the venue registry, the compliance
views): ``on_batch`` runs in the follower's thread, in offset order per partition, and
:meth:`TopicFollower.wait_caught_up` blocks until everything that was in the topic when the
follower started has been handed to it. :func:`read_partition` streams one partition's records
up to an offset, for a stream job rebuilding a partition's state.

A handler must be idempotent per record (re-applying records in order leaves what applying
them once does: every view here replaces by key). When it raises on a batch, the follower
hands the batch over again one record at a time and passes over only the records it raises on:
one bad record costs itself, never its batch. Each is logged with its offset and counted in
``truyvet_follower_skipped_records_total``; one the codec refused (``InvalidEvent``: another
writer's bad record) as ``invalid``, any other exception (a bug) as ``error``, which also
marks the follower :attr:`~TopicFollower.degraded` until the process restarts (its view lacks
those records), shown in the API's ``/healthz``.

A follower may be given a :class:`FirstCatchUp` (:attr:`TopicFollower.bulk`) before it
starts: then everything up to the first catch-up goes to it in bulk, as the client has it
(``PartitionReader.consume_into``), instead of to ``on_batch`` as records, and it is told when
the follower has caught up; records it refuses are passed over as above. Should it fail to
finish, the follower reads the same records again, handing them to ``on_batch``.

Both wait out a broker that is briefly away (``truyvet.kafka.retry``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from truyvet import metrics
from truyvet.codec.errors import InvalidEvent
from truyvet.kafka.backend import Backend, RecordSink
from truyvet.kafka.producer import default_backend
from truyvet.kafka.record import Fed, Record
from truyvet.kafka.retry import BROKER_AWAY_S, BrokerError, retrying
from truyvet.settings import Settings

log = logging.getLogger(__name__)
Resume = Callable[[dict[int, tuple[int, int]]], "dict[int, int] | None"]


class FirstCatchUp(RecordSink, Protocol):
    def caught_up(self) -> None:
        """Everything that was in the topic at the start has been fed (the follower's thread,
        before :meth:`TopicFollower.wait_caught_up` returns)."""


class TopicFollower:
    def __init__(
        self,
        s: Settings,
        topic: str,
        on_batch: Callable[[list[Record]], None],
        name: str,
        batch_size: int = 10_000,
        poll_timeout: float = 0.05,
        backend: Backend | None = None,
    ) -> None:
        self.topic = topic
        self.name = name
        self._on_batch = on_batch
        self._batch_size = batch_size
        self._poll_timeout = poll_timeout
        self._backend = backend or default_backend(s)
        self._reader = self._backend.reader(
            f"truyvet-{name}", **{"queued.max.messages.kbytes": 256 * 1024,
                                  "max.partition.fetch.bytes": 8 << 20})
        self._stop = threading.Event()
        self._caught_up = threading.Event()
        self._targets: dict[int, int] = {}
        self.positions: dict[int, int] = {}  # partition -> next offset to hand over
        self.records = 0
        self._behind: int | None = None
        self.fetch_error: str | None = None  # the last fetch failure, until a fetch succeeds
        self.skipped = {"invalid": 0, "error": 0}  # records passed over, by reason
        self.last_error: str | None = None  # where the last handler error was, and its type
        self.bulk: FirstCatchUp | None = None  # set before start(): takes the first catch-up
        self._started_at: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, name=f"follow-{topic}", daemon=True)

    def start(self, timeout: float = 30.0, resume: Resume | None = None) -> TopicFollower:
        """Start following from each partition's beginning, or from where ``resume`` says:
        given every partition's watermarks ``{partition: (low, high)}`` before anything is
        read, it returns the offsets to start from (a view restored from a checkpoint) or
        None (from the beginning)."""
        deadline = time.monotonic() + timeout
        while True:  # a topic created a moment ago may not be in every broker's metadata yet
            try:
                parts = self._reader.partitions(self.topic, timeout)
                break
            except LookupError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        marks = {p: retrying(lambda p=p: self._reader.watermarks(self.topic, p, 10),
                             f"watermarks of {self.topic}[{p}]", deadline - time.monotonic())
                 for p in parts}
        start_at = resume(marks) if resume is not None else None
        for p, (low, high) in marks.items():
            self.positions[p] = start_at[p] if start_at is not None else low
            if high > self.positions[p]:
                self._targets[p] = high
        if not self._targets:
            self._caught_up.set()
        self._started_at = dict(self.positions)
        if not self._targets:
            self.bulk = None
        self._reader.assign({(self.topic, p): self.positions[p] for p in parts})
        self._thread.start()
        return self

    def wait_caught_up(self, timeout: float | None = None) -> bool:
        return self._caught_up.wait(timeout)

    def wait_for_end(self, timeout: float) -> None:
        """Block until everything in the topic *now* (each partition's end, asked of the broker
        with a client of its own) has been handed over; raises ``TimeoutError`` after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        ends = _ends(self._backend, self.topic, list(self.positions), timeout)
        while any(self.positions.get(p, 0) < end for p, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.topic}: not read to its end in {timeout:g}s")
            time.sleep(0.005)

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
                _, high = self._reader.watermarks(self.topic, p, 0, cached=True)
            except BrokerError:  # not known yet: say so
                return None
            if high < 0:  # not fetched yet
                return None
            total += max(0, high - position)
        return total

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self._reader.close()

    @property
    def degraded(self) -> bool:
        """A handler failed on some record (not a bad record: a bug); the view lacks it."""
        return self.skipped["error"] > 0

    def health(self) -> dict[str, object]:
        return {"caught_up": self.caught_up, "behind": self._behind,
                "skipped_invalid": self.skipped["invalid"], "skipped_error": self.skipped["error"],
                "last_error": self.last_error, "fetch_error": self.fetch_error}

    def _run(self) -> None:
        while not self._stop.is_set():
            bulk = self.bulk
            try:
                if bulk is not None:
                    self._took_in_bulk(
                        self._reader.consume_into(bulk, self._batch_size, self._poll_timeout))
                else:
                    batch = self._reader.consume(self._batch_size, self._poll_timeout)
            except Exception as exc:  # noqa: BLE001 - keep following; say why
                log.exception("following %s failed; retrying", self.topic)
                self.fetch_error = f"{type(exc).__name__}: {exc}"
                time.sleep(1)
                continue
            self.fetch_error = None
            if bulk is None and batch:
                self._hand_over(batch)
                for r in batch:
                    self.positions[r.partition] = r.offset + 1
                self.records += len(batch)
            self._behind = self._count_behind()
            if not self._caught_up.is_set() and all(
                self.positions.get(p, 0) >= end for p, end in self._targets.items()
            ):
                if bulk is not None and not self._bulk_finished(bulk):
                    continue
                self._caught_up.set()

    def _took_in_bulk(self, fed: Fed) -> None:
        for p, next_offset in fed.positions:
            self.positions[p] = next_offset
        for p, offset, exc in fed.refused:
            self._skip(f"{self.topic}[{p}]@{offset}", exc)
        self.records += fed.records

    def _bulk_finished(self, bulk: FirstCatchUp) -> bool:
        """Tell the bulk taker; when it fails, read everything again record by record."""
        self.bulk = None
        try:
            bulk.caught_up()
            return True
        except Exception:  # noqa: BLE001 - a bug in the bulk path must not cost the view
            log.exception("%s: the bulk load of %s failed; reading it again record by record",
                          self.name, self.topic)
        self.positions = dict(self._started_at)
        self.records = 0
        self.skipped = {"invalid": 0, "error": 0}  # they are met again
        self._reader.assign({(self.topic, p): o for p, o in self.positions.items()})
        return False

    def _hand_over(self, batch: list[Record]) -> None:
        try:
            self._on_batch(batch)
            return
        except Exception as exc:  # noqa: BLE001 - find the records it fails on, pass over those
            if len(batch) == 1:
                self._skip(_where(batch[0]), exc)
                return
        for r in batch:
            try:
                self._on_batch([r])
            except Exception as exc:  # noqa: BLE001 - one record's failure must not stop the view
                self._skip(_where(r), exc)

    def _skip(self, where: str, exc: BaseException) -> None:
        reason = "invalid" if isinstance(exc, InvalidEvent) else "error"
        self.skipped[reason] += 1
        metrics.FOLLOWER_SKIPPED.labels(self.name, reason).inc()
        n = self.skipped[reason]
        if reason == "error":
            self.last_error = f"{where}: {type(exc).__name__}"  # the message may hold personal data
        if n > LOGGED_SKIPS and n % 10_000:  # a bug failing on every record: no log storm
            return
        if reason == "invalid":
            log.error("%s: %s refused, passed over: %s", self.name, where, exc)
        else:
            log.error("%s: handling %s failed, passed over (%d so far)", self.name, where, n,
                      exc_info=exc)


def _where(r: Record) -> str:
    return f"{r.topic}[{r.partition}]@{r.offset}"


LOGGED_SKIPS = 100  # records passed over, logged one by one per follower and reason; then 1 in 10k


def _ends(backend: Backend, topic: str, partitions: list[int] | None,
          timeout: float) -> dict[int, int]:
    """Each partition's end offset now (``partitions`` None: all of the topic's), asked of the
    broker with a client of its own."""
    probe = backend.reader("truyvet-ends")
    try:
        parts = probe.partitions(topic, timeout) if partitions is None else partitions
        return {p: retrying(lambda p=p: probe.watermarks(topic, p, timeout)[1],
                            f"watermarks of {topic}[{p}]", timeout) for p in parts}
    finally:
        probe.close()


def _low_watermark(backend: Backend, topic: str, partition: int) -> int:
    def attempt() -> int:  # a fresh client each time: its metadata may name a dead leader
        reader = backend.reader("truyvet-watermarks")
        try:
            return reader.watermarks(topic, partition, 10)[0]
        finally:
            reader.close()
    return retrying(attempt, f"watermarks of {topic}[{partition}]", BROKER_AWAY_S)


def read_partition(s: Settings, topic: str, partition: int, until: int,
                   batch_size: int = 10_000, backend: Backend | None = None,
                   ) -> Iterator[list[Record]]:
    """The records of one partition from its beginning up to offset ``until`` (exclusive),
    streamed in batches as they are fetched (a partition's history is never held whole).
    Blocking; used to rebuild a partition's state before processing it."""
    if until <= 0:
        return  # nothing committed yet: nothing to rebuild
    backend = backend or default_backend(s)
    low = _low_watermark(backend, topic, partition)
    if until <= low:
        return
    reader = backend.reader("truyvet-rebuild")
    try:
        reader.assign({(topic, partition): low})
        next_offset = low
        idle_since = time.monotonic()
        while next_offset < until:
            batch = reader.consume(batch_size, 0.5)
            if not batch:
                if time.monotonic() - idle_since > BROKER_AWAY_S:
                    raise TimeoutError(f"{topic}[{partition}]: stuck at {next_offset} < {until}")
                continue
            idle_since = time.monotonic()
            keep = [r for r in batch if r.offset < until]
            if keep:
                yield keep
            next_offset = batch[-1].offset + 1
    finally:
        reader.close()


def read_topic(s: Settings, topic: str, backend: Backend | None = None,
               timeout: float = 10.0) -> Iterator[Record]:
    """Every record now in ``topic`` (up to each partition's end when called), partition by
    partition in offset order, streamed."""
    backend = backend or default_backend(s)
    for p, end in _ends(backend, topic, None, timeout).items():
        for batch in read_partition(s, topic, p, end, backend=backend):
            yield from batch
