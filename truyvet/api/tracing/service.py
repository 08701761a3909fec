"""The tracer service: standing itineraries, answered from the visit index and re-matched as
late scans arrive; the I/O around the pure decision of
:func:`~truyvet.domain.matching.revisions.next_revision`.

Threads and ordering:
- the index follower thread (:class:`~truyvet.api.tracing.index_view.IndexView`) applies the
  visits topic to the index and hands the changed (venue, day) buckets to the event loop;
- everything else runs on the asyncio loop: answering itineraries (under the index's lock, a
  few milliseconds at most), re-matching standing itineraries whose stops touch changed buckets
  (coalesced for a second), publishing revisions and gap events, storing them in Redis, pushing
  them to watchers.

A submission goes one way: the route calls :meth:`TracerService.submit`, which asks the domain
what it does to the case (``ownership``: opened, replaced by its owner, unchanged, or another
principal's), publishes the new version of the itinerary (acknowledged), answers it from the
index, takes the next revision from the domain, and publishes, stores and pushes it. The
submissions and shares of one case are taken one at a time. State survives restarts through Kafka alone: the index is
rebuilt from the compacted visits topic, standing itineraries from the itineraries topic, the
last published revision of each from the match-results topic (``restore``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from truyvet import metrics, topics
from truyvet.codec import gap as gap_codec
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec.itinerary import Itinerary
from truyvet.codec.match_result import MatchResult
from truyvet.domain.matching import cards, ownership
from truyvet.domain.matching.ownership import Outcome
from truyvet.domain.matching.matcher import Result, encode_result, from_published
from truyvet.domain.matching.revisions import Case, next_revision
from truyvet.domain.matching.standing import StandingCases
from truyvet.api.tracing import restore
from truyvet.api.tracing.index_view import Changes, IndexView
from truyvet.api.tracing.results import ResultStore
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.settings import Settings
from truyvet.topics import MAX_RESULT_BYTES

log = logging.getLogger(__name__)
COALESCE_S = 1.0  # a standing result changes at most about once a second
WATCH_QUEUE = 8  # revisions held for one watcher; a watcher that falls further behind is dropped


@dataclass(frozen=True)
class Submitted:
    """What a submission did: the case as it is now (None: refused, nothing standing), and for
    a replacement the revision it replaced."""

    case: Case | None
    outcome: Outcome
    previous_revision: int | None = None


class TracerService:
    def __init__(self, s: Settings, clock: Callable[[], float] = time.time,
                 backend: Backend | None = None) -> None:
        self.s = s
        self.rules = s.rules()
        self.clock = clock
        self.backend = backend
        self.view = IndexView(s, self.rules, backend, clock)
        self.cases = StandingCases()
        self.ready = False
        self.results = ResultStore(s, self.rules.retention_s)
        self.producer = AsyncProducer(s, "truyvet-api", backend, s.api_send_timeout_s,
                                      **{"message.max.bytes": MAX_RESULT_BYTES})
        self._watchers: dict[str, set[asyncio.Queue[Case | None]]] = defaultdict(set)
        self._changed: asyncio.Queue[Changes] = asyncio.Queue()
        self._case_locks: dict[str, list] = {}  # case_id -> [lock, users]: taken one at a time
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def index(self):  # type: ignore[no-untyped-def]
        return self.view.index

    @property
    def followers(self) -> list[TopicFollower]:
        return [self.view.follower]

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild from Kafka, answer every standing itinerary again, then serve."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        self.view.start()
        cards.warm_up()
        itineraries, published = await asyncio.gather(
            asyncio.to_thread(restore.latest_by_key, self.s, topics.itineraries(self.s),
                              self.backend),
            asyncio.to_thread(restore.latest_by_key, self.s, topics.match_results(self.s),
                              self.backend),
        )
        await asyncio.to_thread(self.view.wait_caught_up)
        # Kafka deletes whole segments: some records may be past the retention
        self.view.expire(int(self.clock()) - self.rules.retention_s)
        log.info("index rebuilt: %d visits in %.1fs", self.index.visits(),
                 time.monotonic() - started)
        # from here on, changes are re-matched (the rebuild's own are reflected in the answers)
        self.view.on_change = lambda changed: loop.call_soon_threadsafe(
            self._changed.put_nowait, changed)
        cutoff_ms = int(self.clock() * 1000) - self.rules.retention_s * 1000
        for it, last in restore.standing(itineraries, published, cutoff_ms):
            await self._resolve(it, self._from_published(it, last), publish_unchanged=False)
        self._tasks = [asyncio.create_task(self._rematch_loop()),
                       asyncio.create_task(self._expire_loop()),
                       asyncio.create_task(self._checkpoint_loop()),
                       asyncio.create_task(self.results.refill_when_empty(lambda: self.cases))]
        self.ready = True
        log.info("tracer service ready: %d standing itineraries", len(self.cases))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self.view.stop()
        if self.ready:  # the next start reads only what comes after this
            await asyncio.to_thread(self._checkpoint)
        await asyncio.to_thread(self.producer.close)
        await self.results.close()

    async def _checkpoint_loop(self) -> None:
        """A checkpoint of the index every ``TRUYVET_API_CHECKPOINT_S``, and one at once after
        a rebuild from the whole topic (the next start then need not repeat it)."""
        if not self.view.checkpoints:
            return
        if self.view.restored["from"] != "checkpoint":
            await asyncio.to_thread(self._checkpoint)
        while True:
            await asyncio.sleep(self.s.api_checkpoint_s)
            await asyncio.to_thread(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            self.view.checkpoint()
        except OSError as exc:  # a full or read-only disk costs the fast restart, not the service
            log.error("index checkpoint not written to %s: %s", self.view.checkpoint_path, exc)
            metrics.INDEX_CHECKPOINT_FAILURES.inc()

    def _from_published(self, it: Itinerary, last: MatchResult | None) -> Result | None:
        if last is None:
            return None
        with self.view.lock:
            return from_published(last, it, self.index)

    # --- answering ------------------------------------------------------------------------------
    async def submit(self, body: Itinerary, by: ownership.Caller) -> Submitted:
        """Apply a submission of ``body`` by ``by``: a new version is recorded (acknowledged
        by Kafka before anything else), answered, and kept re-matched."""
        async with self._one_at_a_time(body.case_id):
            current = self.cases.get(body.case_id)
            decision = ownership.submit(current.itinerary if current else None, body, by,
                                        int(self.clock() * 1000))
            it = decision.itinerary
            if it is None:  # unchanged, or not the submitter's
                return Submitted(current if decision.outcome is Outcome.UNCHANGED else None,
                                 decision.outcome)
            await self.producer.send(topics.itineraries(self.s), it.case_id,
                                     itinerary_codec.encode(it))
            metrics.ITINERARIES.labels(it.classification).inc()
            case = await self._resolve(it, current.result if current else None,
                                       publish_unchanged=True)
            return Submitted(case, decision.outcome,
                             current.result.revision if current is not None else None)

    async def share(self, case_id: str, with_name: str) -> Case | None:
        """Let principal ``with_name`` read and watch the case too (a new version of its
        itinerary, acknowledged; the result and its revision do not change). None: no such
        standing case. Raises ``ValueError`` past the record's limit."""
        async with self._one_at_a_time(case_id):
            current = self.cases.get(case_id)
            if current is None:
                return None
            it = ownership.shared(current.itinerary, with_name)
            if it is not current.itinerary:
                await self.producer.send(topics.itineraries(self.s), case_id,
                                         itinerary_codec.encode(it))
                current = Case(replace(current.result, itinerary=it), current.json,
                               current.flagged_at)
                self.cases.put(current)
            return current

    @asynccontextmanager
    async def _one_at_a_time(self, case_id: str) -> AsyncIterator[None]:
        held = self._case_locks.setdefault(case_id, [asyncio.Lock(), 0])
        held[1] += 1
        try:
            async with held[0]:
                yield
        finally:
            held[1] -= 1
            if not held[1]:
                del self._case_locks[case_id]

    async def _resolve(self, it: Itinerary, old: Result | None, publish_unchanged: bool) -> Case:
        """Answer ``it``; when the domain says it is a new revision, publish its gap events
        and the result, store it and push it to watchers."""
        stops = self.view.answer(it)
        rev = next_revision(self.cases.get(it.case_id), old, it, stops, int(self.clock() * 1000),
                            self._encode, publish_unchanged)
        if rev.published:
            for g in rev.gaps:
                self.producer.send_nowait(topics.gaps(self.s), gap_codec.key(g),
                                          gap_codec.encode(g))
                metrics.GAPS.labels(g.status).inc()
            # stamped with the submission time: the topic's retention removes every revision
            # of the result when the case expires
            self.producer.send_nowait(topics.match_results(self.s), it.case_id, rev.case.json,
                                      timestamp_ms=it.submitted_at_ms or 0)
            for q in list(self._watchers.get(it.case_id, ())):
                _push(q, rev.case)
            await self.results.store(rev.case)
        self.cases.put(rev.case)
        return rev.case

    def _encode(self, result: Result) -> bytes:
        return encode_result(result, self.index, self.rules.close_contact_s)

    # --- watchers (server-sent events) -----------------------------------------------------------
    def subscribe(self, case_id: str) -> asyncio.Queue[Case | None]:
        """A queue receiving each new revision of the case; ``None`` when the watcher fell
        more than ``WATCH_QUEUE`` revisions behind (it is dropped, not buffered without bound:
        its client reconnects and gets the latest)."""
        q: asyncio.Queue[Case | None] = asyncio.Queue(WATCH_QUEUE)
        self._watchers[case_id].add(q)
        return q

    def unsubscribe(self, case_id: str, q: asyncio.Queue[Case | None]) -> None:
        self._watchers[case_id].discard(q)
        if not self._watchers[case_id]:
            del self._watchers[case_id]

    # --- re-matching and retention ---------------------------------------------------------------
    async def _rematch_loop(self) -> None:
        while True:
            changed = await self._changed.get()
            await asyncio.sleep(COALESCE_S)
            while not self._changed.empty():
                changed |= self._changed.get_nowait()
            affected = self.cases.affected(changed, self.rules.tolerance_s, self.index.longest)
            for case_id in sorted(affected):
                case = self.cases.get(case_id)
                if case is None:
                    continue
                after = await self._resolve(case.itinerary, case.result, publish_unchanged=False)
                if after.result is not case.result:
                    metrics.RESULT_REVISIONS.inc()

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(self.rules.sweep_every_s)
            await self.expire()
            # the checkpoint on disk forgets what the index forgot, at the same sweep
            await asyncio.to_thread(self._checkpoint)

    async def expire(self) -> None:
        """Apply the retention: visits that ended before it leave the index; cases submitted
        before it are forgotten (Redis keys expire by themselves at the same moment, Kafka's
        retention removes their records); standing cases with a stop reaching back before it
        are answered again, so that no result lists a contact older than the retention; then
        the card ids nothing references any more are forgotten."""
        now_s = int(self.clock())
        cutoff_s = now_s - self.rules.retention_s
        forgotten = self.view.expire(cutoff_s)
        for case_id in self.cases.expired(now_s, self.rules.retention_s):
            self.cases.drop(case_id)
        if forgotten:
            for case in self.cases.reaching_before(cutoff_s, self.rules.tolerance_s):
                await self._resolve(case.itinerary, case.result, publish_unchanged=False)
        # then the card ids no visit and no standing result names any more leave memory
        # (no await between the references taken and the forgetting)
        cards_forgotten = self.view.forget_cards(
            stop.cards for case in self.cases for stop in case.result.stops)
        if cards_forgotten:
            log.info("retention: %d card ids forgotten", cards_forgotten)


def _push(q: asyncio.Queue[Case | None], case: Case) -> None:
    """A revision to one watcher; one too far behind gets ``None`` instead: the end."""
    if q.qsize() >= WATCH_QUEUE:
        while not q.empty():
            q.get_nowait()
        q.put_nowait(None)
    else:
        q.put_nowait(case)
