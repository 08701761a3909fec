"""Batch jobs: a consumer group, a step per batch, durable outputs, then the commit.

Why not faust agents for these jobs: measured on the 2-core machine (docs/architecture.md),
a faust agent that does nothing with its events tops out at ~14,000 events/s, while
confluent-kafka's ``consume()`` delivers ~1.5 million messages/s. The check-in path needs
tens of thousands of scans/s per worker, so its jobs consume and produce in batches through
the Kafka backend (``truyvet.kafka.backend``); the faust app hosts them (``truyvet.jobs.app``:
lifecycle, web server, ``/metrics``) and runs the low-volume agents.

Contract of :class:`BatchJob` (what blocks, what is ordered, when offsets are committed):
- one thread per job; batches of up to ``batch_size`` records, in offset order per partition;
- ``step.process(batch)`` (``truyvet.jobs.step``) returns output records and dead letters; a
  bad input is a dead letter, never an exception. An exception is a bug: the job stops at
  once, in one ``STOPPED`` log line with the traceback, and that batch is not committed (its
  outputs were not sent), so a fixed worker processes it again;
- outputs and dead letters are produced; at most every ``commit_every_s`` (and on revocation
  and stop) the producer is *flushed*, and only then are the offsets of everything processed
  so far committed: at-least-once; a crash replays from the last commit. The offsets committed
  are the job's own record of what it processed, taken after the flush -- never librdkafka's
  stored offsets: an asynchronous commit reads those when its request is built, by which time
  ``consume()`` has already stored the next batch's (a worker killed at that moment lost the
  next batch's outputs: found by ``tests/integration/test_crash_at_scale.py``);
- the dead-letter guard (``truyvet.jobs.guard``) *pauses* the job when too many inputs are
  refused (a share of the last 10,000, or a run in one partition): the tripping batch's
  outputs and dead letters are not sent and it is not committed; what was processed before it
  is committed; the job leaves its group (its partitions wait, or go to the job in another
  worker, whose guard judges them alike) while the worker's other jobs go on. ``resume(at_ms)``
  (``truyvet dlq resume JOB``, through the control topic) rejoins the group: the tripping
  batch is read again from the commit, and the guard forgives one window of inputs -- the
  operator has looked at them -- so they are dead-lettered once, nothing duplicated;
- ``step.assigned({(topic, partition): committed offset})`` runs before the first batch of
  newly assigned partitions (to rebuild state), ``step.revoked(partitions)`` after the last one
  of revoked partitions;
- ``step.tick(now_ms)``, if the step has one, runs on the job's thread after every poll,
  input or not (time-driven work such as forgetting state past the retention, or judging
  silence); what it returns (a :class:`StepResult`, or None) is sent like a batch's;
- ``job.progress`` (:class:`~truyvet.jobs.progress.InputProgress`) tells, per input partition,
  up to what event time it has been read: the consumer reports ends of partitions for it;
- ``stop()`` finishes the current batch, flushes, commits and leaves the group.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from truyvet import metrics, stopping
from truyvet.jobs.guard import DeadLetterGuard
from truyvet.jobs.progress import InputProgress
from truyvet.jobs.step import Step, StepResult
from truyvet.kafka.backend import Backend
from truyvet.kafka.producer import DurableProducer, default_backend
from truyvet.kafka.record import EndOfPartition, Record, TopicPartition
from truyvet.kafka.retry import BROKER_AWAY_S, BrokerError, retrying
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class JobStopped(RuntimeError):
    """The job stopped itself and said why in one line (a bug): no traceback."""


class GuardTripped(RuntimeError):
    """The dead-letter guard's verdict on a batch: the job pauses."""


class BatchJob:
    def __init__(
        self, s: Settings, name: str, topic: str | list[str], step: Step, deadletter_topic: str,
        batch_size: int = 5000, poll_s: float = 0.05, commit_every_s: float = 0.2,
        progress: InputProgress | None = None, backend: Backend | None = None,
    ) -> None:
        backend = backend or default_backend(s)
        self._backend = backend
        self.name = name
        self.group = f"{s.topic_prefix}-{name}"
        self.topics = [topic] if isinstance(topic, str) else list(topic)
        self.step = step
        self.deadletter_topic = deadletter_topic
        self.batch_size = batch_size
        self.poll_s = poll_s
        self.commit_every_s = commit_every_s
        self._last_commit = time.monotonic()
        self._consumer = self._new_consumer()
        self._producer = DurableProducer(s, f"truyvet-{name}", backend=backend, poll_every=None)
        self._stop = threading.Event()
        self._stop_by: float | None = None  # set by stop(): the last moment to flush
        self._thread = threading.Thread(target=self._run, name=f"job-{name}", daemon=True)
        self.processed = 0
        self.error: BaseException | None = None
        self.guard = DeadLetterGuard(s.dlq_max_share, s.dlq_max_consecutive)
        self.paused: str | None = None  # why the dead-letter guard paused the job
        self.paused_at_ms: int | None = None
        self._resume = threading.Event()
        self.ready = threading.Event()  # set once it has its first assignment, state rebuilt
        # (topic, partition) -> the next offset to read: everything before it was processed;
        # and what was last sent in a commit (a failed commit is forgotten, hence sent again)
        self._processed_to: dict[TopicPartition, int] = {}
        self._committing: dict[TopicPartition, int] = {}
        self._tick = getattr(step, "tick", None)
        self.progress = progress or InputProgress()

    # --- lifecycle ---------------------------------------------------------------------------
    def _new_consumer(self):  # type: ignore[no-untyped-def]
        return self._backend.group_consumer(self.group, f"truyvet-{self.name}",
                                            on_commit_failed=self._commit_failed)

    def _subscribe(self) -> None:
        self._consumer.subscribe(self.topics, on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_lost)

    def start(self) -> None:
        self._subscribe()
        self._thread.start()

    def resume(self, given_at_ms: int) -> bool:
        """Resume the job if the guard paused it before ``given_at_ms`` (a command given
        earlier, read again when a worker starts, does not resume a later pause)."""
        if self.paused is None or self.paused_at_ms is None or given_at_ms < self.paused_at_ms:
            return False
        self._resume.set()
        return True

    def stop(self, timeout: float = stopping.STOP_DEADLINE_S) -> None:
        """Finish the batch, hand over what is acknowledged within ``FLUSH_ON_STOP_S``
        (committed), leave the group; waits at most ``timeout`` for it."""
        if self._stop_by is None:  # asked twice (the signal, then the worker's shutdown)
            self._stop_by = time.monotonic() + stopping.FLUSH_ON_STOP_S
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """Asked to stop (a job that ended then did not die: it was stopped)."""
        return self._stop.is_set()

    # --- rebalancing (called inside consume(), on this job's thread) ------------------------------
    def _on_assign(self, parts: list[TopicPartition]) -> None:
        numbers = sorted({p for _, p in parts})
        log.info("%s: assigned partitions %s", self.name, numbers)
        started = time.monotonic()
        committed = retrying(lambda: self._consumer.committed(parts, 30),
                             f"{self.name}: committed offsets", BROKER_AWAY_S) if parts else {}
        self.step.assigned(committed)
        log.info("%s: state ready for %s in %.1fs", self.name, numbers, time.monotonic() - started)
        self.ready.set()

    def _on_revoke(self, parts: list[TopicPartition]) -> None:
        log.info("%s: partitions %s revoked", self.name, sorted({p for _, p in parts}))
        try:
            self._flush_and_commit(wait=True)  # what was processed is handed over committed
        except BrokerError as exc:  # e.g. the coordinator is away: the next owner replays
            log.warning("%s: commit on revocation failed (%s); the next owner processes those "
                        "records again (at-least-once)", self.name, exc)
        self._forget(parts)
        self.step.revoked(sorted(parts))

    def _on_lost(self, parts: list[TopicPartition]) -> None:
        self._forget(parts)  # another member owns them now: nothing of ours to commit
        self.step.revoked(sorted(parts))

    def _forget(self, parts: list[TopicPartition]) -> None:
        self.progress.forget(parts)
        self.guard.forget(parts)
        for tp in parts:
            self._processed_to.pop(tp, None)
            self._committing.pop(tp, None)

    def _commit_failed(self, parts: list[TopicPartition], error: str) -> None:
        log.warning("%s: commit failed (%s); it is sent again with the next one", self.name, error)
        for tp in parts:
            self._committing.pop(tp, None)

    # --- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                events = self._consumer.consume(self.batch_size, self.poll_s)
                polled_ms = int(time.time() * 1000)
                batch: list[Record] = []
                progress = self.progress
                for e in events:
                    if type(e) is EndOfPartition:
                        progress.reached_end(e.topic, e.partition, polled_ms)
                    else:
                        batch.append(e)  # type: ignore[arg-type]
                        progress.read(e.topic, e.partition, e.timestamp_ms)  # type: ignore[union-attr]
                if batch:
                    try:
                        self._handle(batch)
                    except GuardTripped as exc:
                        if not self._pause(str(exc)):
                            return  # stopped while paused
                        continue
                if self._tick is not None:
                    ticked = self._tick(int(time.time() * 1000))
                    if ticked is not None:
                        self._send(ticked)
                if time.monotonic() - self._last_commit >= self.commit_every_s:
                    self._flush_and_commit()
            self._flush_and_commit(wait=True)
        except JobStopped as exc:
            self.error = exc  # said in one line already
        except Exception as exc:  # noqa: BLE001 - reported through alive/error and the log
            self.error = exc
            log.exception("%s stopped on an error", self.name)
        finally:
            self._consumer.close()

    def _handle(self, batch: list[Record]) -> None:
        now_ms = int(time.time() * 1000)
        try:
            result = self.step.process(batch, now_ms)
        except Exception as exc:
            first = batch[0]
            log.critical("%s: STOPPED by a programming error on a batch of %d records (first "
                         "%s[%d]@%d): %r; the batch is not committed and is processed again "
                         "once the worker is fixed", self.name, len(batch), first.topic,
                         first.partition, first.offset, exc, exc_info=True)
            raise JobStopped(f"{self.name}: {exc!r}") from exc
        refused = {((d.source_topic, d.source_partition), d.source_offset) for d in result.dead}
        tripped = self.guard.observe_records(_Positions(batch), refused)  # type: ignore[arg-type]
        if tripped is not None:  # judged before anything of the batch is sent
            raise GuardTripped(tripped)
        self._send(result)
        processed_to = self._processed_to
        for r in batch:  # offset order per partition: the last one wins
            processed_to[(r.topic, r.partition)] = r.offset + 1
        self.processed += len(batch)
        metrics.JOB_RECORDS.labels(self.name).inc(len(batch))

    def _pause(self, why: str) -> bool:
        """Paused by the guard: commit what was processed before the tripping batch, leave the
        group, wait for :meth:`resume` (True) or :meth:`stop` (False)."""
        log.critical("%s: PAUSED by the dead-letter guard: %s; the batch is not sent nor "
                     "committed, the worker's other jobs go on. Find the cause in `truyvet dlq "
                     "show`, then `truyvet dlq resume %s`.", self.name, why, self.name)
        self._flush_and_commit(wait=True)
        self._consumer.close()  # leaves the group: revocation commits nothing more of ours
        self.paused, self.paused_at_ms = why, int(time.time() * 1000)
        metrics.JOB_PAUSED.labels(self.name).set(1)
        self.ready.clear()
        while not self._resume.wait(0.5):
            if self._stop.is_set():
                self._consumer = _Closed()  # closed already
                return False
        self._resume.clear()
        log.warning("%s: resumed; the refused inputs of one window are dead-lettered, not "
                    "judged again", self.name)
        self.guard.forgive()
        self.paused = self.paused_at_ms = None
        metrics.JOB_PAUSED.labels(self.name).set(0)
        self._processed_to.clear()
        self._committing.clear()
        self._consumer = self._new_consumer()
        self._subscribe()
        return True

    def _send(self, result: StepResult) -> None:
        send = self._producer.send
        for o in result.outputs:
            send(o.topic, o.key, o.value, partition=o.partition, timestamp_ms=o.timestamp_ms)
        for d in result.dead:
            send(self.deadletter_topic, d.key, d.payload, headers=d.headers())
            metrics.DEADLETTERS.labels(d.stage, d.reason).inc()

    def _flush_and_commit(self, wait: bool = False) -> None:
        self._last_commit = time.monotonic()
        while (left := self._producer.flush(self._flush_for())) > 0:
            if self._stop_by is not None and time.monotonic() >= self._stop_by:
                log.warning("%s: stopping with %d outputs not acknowledged (is the broker "
                            "away?); their inputs are not committed: the next owner processes "
                            "them again", self.name, left)
                return
            log.warning("%s: outputs not yet acknowledged; waiting before committing", self.name)
        failures = self._producer.stats.failures
        if failures:
            # never commit past inputs whose outputs were lost: stop, replay from the last commit
            raise RuntimeError(f"{len(failures)} outputs not delivered: {failures[0].error}")
        # a snapshot taken now, after the flush: exactly what is processed and acknowledged
        due = {tp: o for tp, o in self._processed_to.items() if self._committing.get(tp) != o}
        if not due:
            return
        self._committing.update(due)
        self._consumer.commit(due, wait=wait)


    def _flush_for(self) -> float:
        """How long one flush may wait: 30 s, or what is left of the stop's allowance."""
        if self._stop_by is None:
            return 30.0
        return max(0.0, min(30.0, self._stop_by - time.monotonic()))


class _Closed:
    """A consumer already closed (its job stopped while paused)."""

    def close(self) -> None:
        pass


class _Positions(Sequence[tuple[TopicPartition, int]]):
    """A batch seen as (partition, offset) pairs, made only if the guard walks them."""

    def __init__(self, batch: list[Record]) -> None:
        self._batch = batch

    def __len__(self) -> int:
        return len(self._batch)

    def __getitem__(self, i):  # type: ignore[no-untyped-def, override]
        r = self._batch[i]
        return (r.topic, r.partition), r.offset
