"""Batch jobs: a consumer group, a pure step per batch, durable outputs, then the commit.

Why not faust agents for these jobs: measured on the 2-core machine (docs/architecture.md),
a faust agent that does nothing with its events tops out at ~14,000 events/s, while
confluent-kafka's ``consume()`` delivers ~1.5 million messages/s. The check-in path needs
tens of thousands of scans/s per worker, so its jobs consume and produce with
confluent-kafka in batches; the faust app still hosts them (lifecycle, web server,
``/metrics``, timers) and runs the low-volume agents.

Contract of :class:`BatchJob` (what blocks, what is ordered, when offsets are committed):
- one thread per job; ``consume()`` batches of up to ``batch_size`` messages, in offset order
  per partition;
- ``step.process(batch)`` is the job's logic; it returns output records and dead letters and
  must not raise for a bad input (the runtime turns an unexpected exception into dead letters
  for the whole batch rather than lose it, and goes on);
- outputs and dead letters are produced; at most every ``commit_every_s`` (and on revocation
  and stop) the producer is *flushed*, and only then are the offsets of everything processed
  so far committed: at-least-once; a crash replays from the last commit. The offsets committed
  are the job's own record of what it processed, taken after the flush — never librdkafka's
  stored offsets: an asynchronous commit reads those when its request is built, by which time
  ``consume()`` has already stored the next batch's (a worker killed at that moment lost the
  next batch's outputs: found by ``tests/integration/test_crash_at_scale.py``);
- ``step.assigned({(topic, partition): committed offset})`` runs before the first batch of newly assigned partitions (to
  rebuild state), ``step.revoked(partitions)`` after the last one of revoked partitions;
- ``step.tick(now_ms)``, if the step has one, runs on the job's thread after every poll,
  input or not (time-driven work such as forgetting state past the retention, or judging
  silence); what it returns (a :class:`StepResult`, or None) is sent like a batch's;
- ``job.progress`` (:class:`~truyvet.jobs.progress.InputProgress`) tells, per input partition,
  up to what event time it has been read: the consumer reports ends of partitions for it;
- ``stop()`` finishes the current batch, flushes, commits and leaves the group.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import mode
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from truyvet.jobs.guard import DeadLetterGuard
from truyvet.jobs.progress import InputProgress
from truyvet import metrics
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import Reason
from truyvet.kafka.producer import DurableProducer
from truyvet.kafka.retry import BROKER_AWAY_S, retrying
from truyvet.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Output:
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None = None
    timestamp_ms: int | None = None


@dataclass
class StepResult:
    outputs: list[Output] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


class Step(Protocol):
    stage: str

    def process(self, batch: Sequence[Message], now_ms: int) -> StepResult: ...

    def assigned(self, partitions: dict[tuple[str, int], int]) -> None:
        """Newly assigned (topic, partition) -> the offset processing resumes at (committed)."""

    def revoked(self, partitions: list[tuple[str, int]]) -> None: ...


class BatchJob:
    def __init__(
        self, s: Settings, name: str, topic: str | list[str], step: Step, deadletter_topic: str,
        batch_size: int = 5000, poll_s: float = 0.05, commit_every_s: float = 0.2,
        progress: InputProgress | None = None,
    ) -> None:
        self.name = name
        self.group = f"{s.topic_prefix}-{name}"
        self.topics = [topic] if isinstance(topic, str) else list(topic)
        self.step = step
        self.deadletter_topic = deadletter_topic
        self.batch_size = batch_size
        self.poll_s = poll_s
        self.commit_every_s = commit_every_s
        self._last_commit = time.monotonic()
        self._consumer = Consumer({
            "bootstrap.servers": s.bootstrap_servers,
            "group.id": self.group,
            "client.id": f"truyvet-{name}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,  # we commit explicit offsets (see above)
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,  # for self.progress: "nothing newer here"
            "session.timeout.ms": 10_000,  # a dead worker's partitions move on within 10 s
            "heartbeat.interval.ms": 3_000,
            "max.poll.interval.ms": 600_000,  # rebuilding a partition's state may take a while
            "fetch.wait.max.ms": 20,
            "queued.max.messages.kbytes": 128 * 1024,
            "on_commit": self._on_commit,
        })
        self._producer = DurableProducer(s, f"truyvet-{name}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{name}", daemon=True)
        self.processed = 0
        self.error: BaseException | None = None
        self.guard = DeadLetterGuard(s.dlq_max_share)
        self._halted = False
        # (topic, partition) -> the next offset to read: everything before it was processed;
        # and what was last sent in a commit (a failed commit is forgotten, hence sent again)
        self._processed_to: dict[tuple[str, int], int] = {}
        self._committing: dict[tuple[str, int], int] = {}
        self._tick = getattr(step, "tick", None)
        self.progress = progress or InputProgress()

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._consumer.subscribe(self.topics, on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_lost)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- rebalancing (called inside consume(), on this job's thread) ------------------------------
    def _on_assign(self, consumer: Consumer, tps: list[TopicPartition]) -> None:
        parts = sorted({tp.partition for tp in tps})
        log.info("%s: assigned partitions %s", self.name, parts)
        started = time.monotonic()
        committed = retrying(lambda: consumer.committed(tps, timeout=30),
                             f"{self.name}: committed offsets", BROKER_AWAY_S) if tps else []
        self.step.assigned({(tp.topic, tp.partition): max(tp.offset, 0) for tp in committed})
        log.info("%s: state ready for %s in %.1fs", self.name, parts, time.monotonic() - started)

    def _on_revoke(self, consumer: Consumer, tps: list[TopicPartition]) -> None:
        parts = sorted((tp.topic, tp.partition) for tp in tps)
        log.info("%s: partitions %s revoked", self.name, sorted({p for _, p in parts}))
        try:
            self._flush_and_commit(wait=True)  # what was processed is handed over committed
        except KafkaException as exc:  # e.g. the coordinator is away: the next owner replays
            log.warning("%s: commit on revocation failed (%s); the next owner processes those "
                        "records again (at-least-once)", self.name, exc)
        self._forget(parts)
        self.step.revoked(parts)

    def _on_lost(self, consumer: Consumer, tps: list[TopicPartition]) -> None:
        parts = sorted((tp.topic, tp.partition) for tp in tps)
        self._forget(parts)  # another member owns them now: nothing of ours to commit
        self.step.revoked(parts)

    def _forget(self, parts: list[tuple[str, int]]) -> None:
        self.progress.forget(parts)
        for tp in parts:
            self._processed_to.pop(tp, None)
            self._committing.pop(tp, None)

    def _on_commit(self, err: KafkaError | None, tps: list[TopicPartition]) -> None:
        if err is None:
            return
        log.warning("%s: commit failed (%s); it is sent again with the next one", self.name, err)
        for tp in tps:
            self._committing.pop((tp.topic, tp.partition), None)

    # --- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                msgs = self._consumer.consume(self.batch_size, self.poll_s)
                polled_ms = int(time.time() * 1000)
                batch = []
                for m in msgs:
                    err = m.error()
                    if err is None:
                        batch.append(m)
                        self.progress.read(m.topic(), m.partition(), m.timestamp()[1])
                    elif err.code() == KafkaError._PARTITION_EOF:
                        self.progress.reached_end(m.topic(), m.partition(), polled_ms)
                    else:
                        log.warning("%s: %s", self.name, err)
                if batch:
                    self._handle(batch)
                if self._tick is not None:
                    ticked = self._tick(int(time.time() * 1000))
                    if ticked is not None:
                        self._send(ticked)
                if time.monotonic() - self._last_commit >= self.commit_every_s:
                    self._flush_and_commit()
            self._flush_and_commit(wait=True)
        except GuardTripped as exc:
            self.error = exc  # said in one line already; no traceback to bury it
        except Exception as exc:  # noqa: BLE001 - reported through alive/error and the log
            self.error = exc
            log.exception("%s stopped on an error", self.name)
        finally:
            self._consumer.close()

    def _handle(self, batch: list[Message]) -> None:
        now_ms = int(time.time() * 1000)
        try:
            result = self.step.process(batch, now_ms)
        except Exception as exc:  # a bug: keep the inputs, say why, go on
            log.exception("%s failed on a batch of %d; dead-lettering it", self.name, len(batch))
            result = StepResult(dead=[_dead(m, self.step.stage, exc, now_ms) for m in batch])
        self._send(result)
        tripped = self.guard.observe(len(batch), len(result.dead))
        if tripped is not None:
            log.critical("%s: STOPPED by the dead-letter guard: %s; the batch is not committed. "
                         "Find the cause in `truyvet dlq show`, fix it, then restart the worker.",
                         self.name, tripped)
            self._halted = True  # nothing more is committed, not even on the way out
            raise GuardTripped(tripped)
        processed_to = self._processed_to
        for m in batch:  # offset order per partition: the last one wins
            processed_to[(m.topic(), m.partition())] = m.offset() + 1
        self.processed += len(batch)
        metrics.JOB_RECORDS.labels(self.name).inc(len(batch))

    def _send(self, result: StepResult) -> None:
        send = self._producer.send
        for o in result.outputs:
            send(o.topic, o.key, o.value, partition=o.partition, timestamp_ms=o.timestamp_ms)
        for d in result.dead:
            send(self.deadletter_topic, d.key, d.payload, headers=d.headers())
            metrics.DEADLETTERS.labels(d.stage, d.reason).inc()
        self._producer.poll(0)

    def _flush_and_commit(self, wait: bool = False) -> None:
        self._last_commit = time.monotonic()
        if self._halted:
            return
        while self._producer.flush(30) > 0:
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
        self._consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in due.items()],
                              asynchronous=not wait)


class GuardTripped(RuntimeError):
    """Most recent inputs were dead-lettered: the job stops without committing the batch."""


class JobService(mode.Service):
    """Runs a :class:`BatchJob` inside the faust worker; if the job dies, the worker does
    (so that its supervisor restarts it, and the group moves its partitions meanwhile)."""

    def __init__(self, job: BatchJob, **kwargs: object) -> None:
        self.job = job
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        self.job.start()

    async def on_stop(self) -> None:
        await asyncio.to_thread(self.job.stop)

    @mode.Service.task
    async def _watch(self) -> None:
        while not self.should_stop:
            await self.sleep(1.0)
            if not self.job.alive and not self.should_stop:
                await self.crash(self.job.error or RuntimeError(f"{self.job.name} stopped"))


def _dead(m: Message, stage: str, exc: BaseException, now_ms: int) -> DeadLetter:
    return DeadLetter(
        reason=str(Reason.PROCESSING_ERROR), detail=repr(exc)[:500], stage=stage,
        failed_at_ms=now_ms, payload=m.value() or b"", key=m.key(), source_topic=m.topic(),
        source_partition=m.partition(), source_offset=m.offset(),
    )
