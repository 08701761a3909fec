"""The tracer service: standing itineraries, answered from the visit index and re-matched as
late scans arrive; the I/O around the pure decision of
:func:`~truyvet.domain.matching.revisions.next_revision`.

Any number of API processes (replicas) serve the same cases behind any load balancer. Each
follows the whole visits topic (its index), and the whole itineraries and match-results topics
(its :class:`~truyvet.api.tracing.board.Board` of every case: what GET, the event streams and
the ownership checks read). Each case is re-matched by one replica only: the one Kafka's
consumer group assigned its ``itineraries.v1`` partition to (``truyvet.api.tracing.owners``).

A submission goes one way, on whichever replica it reaches: the route calls
:meth:`TracerService.submit`, which asks the domain what it does to the case (``ownership``:
opened, replaced by its owner, unchanged, or another principal's) and publishes the new version
of the itinerary (acknowledged). The owner of its partition -- this replica, or another that
reads the record -- answers it from the index, takes the next revision from the domain and
publishes it, with the offset of the version it answers (header ``itinerary``); a replica that
is not the owner waits for that revision on the match-results topic and answers with it. Every
replica pushes each new revision to its own watchers (server-sent events).

Threads and ordering:
- the follower threads hand what they read to the event loop (the index's changed buckets;
  itinerary and result records), in offset order;
- everything else runs on the asyncio loop: answering (under the index's lock), re-matching the
  owned cases whose stops touch changed buckets (coalesced for a second), publishing revisions
  and gap events, storing summaries in Redis, pushing to watchers. The submissions, shares and
  answers of one case are taken one at a time.

State survives restarts through Kafka alone (and the index's checkpoint on local disk): a
replica that is given partitions answers each of their cases again against the last revision
published, so a rebuilt answer equal to it keeps its revision and a different one (or one never
answered: its owner died first) becomes the next. It serves meanwhile (ready once given its
first partitions): a read or a submission of a case it has not answered again yet answers that
case first.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace

from truyvet import metrics, topics
from truyvet.codec import gap as gap_codec
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec import match_result as match_result_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.itinerary import Itinerary
from truyvet.codec.match_result import MatchResult
from truyvet.domain.matching import cards, chains, ownership
from truyvet.domain.matching.ownership import Outcome
from truyvet.domain.matching.matcher import (Result, StopResult, encode_result, from_published,
                                             reflects)
from truyvet.domain.matching.revisions import Case, next_revision
from truyvet.domain.matching.standing import StandingCases
from truyvet.api.tracing.answers import Answer, summary_of_result
from truyvet.api.tracing.board import (ITINERARY_HEADER, REPLICA_HEADER, REVISION_HEADER,
                                       Board, Shown)
from truyvet.api.tracing.clusters import ClusterDesk
from truyvet.api.tracing.followups import FollowUps
from truyvet.api.tracing.index_view import Changes, IndexView, Matched
from truyvet.api.tracing.owners import CaseOwners
from truyvet.api.tracing.results import ResultStore
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.record import Headers, Record
from truyvet.settings import Settings
from truyvet.topics import MAX_RESULT_BYTES

log = logging.getLogger(__name__)
COALESCE_S = 1.0  # a standing result changes at most about once a second
WATCH_QUEUE = 8  # revisions held for one watcher; a watcher that falls further behind is dropped
ANSWER_WAIT_S = 30.0  # a submission waits this long for its owner's answer (a handover: 10 s+)
OWNERS_WAIT_S = 30.0  # longest a handover of partitions waits for the topics' ends


@dataclass(frozen=True)
class Submitted:
    """What a submission did: the case as shown now (None: refused, or recorded but not
    answered in time), and for a replacement the revision it replaced."""

    case: Shown | None
    outcome: Outcome
    previous_revision: int | None = None
    audited: bool = False  # its disclosure recorded already (``TracerService.submit``)
    answered: bool = False  # its default answer given already (``TracerService.submit``)


# the disclosure of a submission's answer to record: (the revision shown whole, or its default
# answer; what the submission did; the revision it replaced) -> its record handed to Kafka now,
# acknowledged when awaited
Disclosure = Callable[[Shown | Answer, Outcome, int | None], Awaitable[None]]
# a submission's default answer given before its whole result is encoded: (the answer, what the
# submission did) -> awaited before the whole is encoded and published
Answering = Callable[[Answer, Outcome], Awaitable[None]]


class TracerService:
    def __init__(self, s: Settings, clock: Callable[[], float] = time.time,
                 backend: Backend | None = None) -> None:
        self.s = s
        self.rules = s.rules()
        self.clock = clock
        self.backend = backend
        self.view = IndexView(s, self.rules, backend, clock)
        self.board = Board()  # every case, as every replica shows it
        self.cases = StandingCases()  # the cases this replica owns (re-matches)
        self.owned: set[int] = set()  # their partitions of the itineraries topic
        self._answers: dict[str, int] = {}  # owned case -> offset of the version its result answers
        self.ready = False
        self.results = ResultStore(s, self.rules.retention_s)
        # two connections: the records a request waits for (itineraries, audit, follow-ups:
        # small, each sent at once) apart from those none waits for -- results and gap events
        # (up to megabytes, compressed), clusters and their alerts (hundreds at a time when
        # the clusters settle), batched: an acknowledgement never waits behind a megabyte
        # being compressed, nor behind a settling's hundreds of records sent one by one
        self.producer = AsyncProducer(s, "truyvet-api", backend, s.api_send_timeout_s,
                                      **{"linger.ms": 0})
        self.background_producer = AsyncProducer(s, "truyvet-api-background", backend,
                                                 s.api_send_timeout_s,
                                                 **{"message.max.bytes": MAX_RESULT_BYTES})
        self._itineraries = TopicFollower(s, topics.itineraries(s), self._handing(
            self._apply_itineraries), "api-itineraries", backend=backend)
        # this process's id, on the results it publishes: it passes over its own when it
        # reads them back (applied when published)
        self.replica = uuid.uuid4().hex[:16]
        self._published = TopicFollower(s, topics.match_results(s), self._results_read,
                                        "api-results", backend=backend)
        # compresses the results read, two at a time (the compressor lets the interpreter go)
        self._packing = ThreadPoolExecutor(2, "api-results-packing")
        self.owners = CaseOwners(s, topics.itineraries(s), self._assigned, self._revoked, backend)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchers: dict[str, set[asyncio.Queue[Shown | None]]] = defaultdict(set)
        self._waiting: dict[str, list[tuple[int, asyncio.Future[Shown]]]] = defaultdict(list)
        self._changed: asyncio.Queue[Changes] = asyncio.Queue()
        self._case_locks: dict[str, list] = {}  # case_id -> [lock, users]: taken one at a time
        # case_id -> set once the revision whose default answer went out early is shown
        self._showing: dict[str, asyncio.Event] = {}
        # the owned cases given to this replica and not answered again yet (a read of one
        # answers it first), and set once its first partitions were given and listed
        self._unanswered: set[str] = set()
        self._given = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._owning: set[asyncio.Task[None]] = set()
        self._itinerary_partitions = next(t.partitions for t in topics.catalogue(s)
                                          if t.name == topics.itineraries(s))
        # the clusters of every case; this replica publishes those of its partitions
        self.clusters = ClusterDesk(s, self.background_producer, clock, lambda: self.owned,
                                    self._itinerary_partitions, self._handing, backend)
        self.followups = FollowUps(s, self.producer, self._handing, backend)  # of contacts

    @property
    def index(self):  # type: ignore[no-untyped-def]
        return self.view.index

    @property
    def followers(self) -> list[TopicFollower]:
        return [self.view.follower, self._itineraries, self._published, self.clusters.follower,
                self.followups.follower]

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Follow the three topics to their ends, serve, then join the replicas' group: ready
        once the partitions it is first given are answered again (or none was given)."""
        self._loop = loop = asyncio.get_running_loop()
        started = time.monotonic()
        self.view.start()
        cards.warm_up()
        self._itineraries.start()
        self._published.start()
        self.clusters.follower.start()
        self.followups.follower.start()
        for follower in (self._itineraries, self._published, self.clusters.follower,
                         self.followups.follower, self.view.follower):
            await asyncio.to_thread(follower.wait_caught_up)
        # Kafka deletes whole segments: some records may be past the retention
        self.view.expire(int(self.clock()) - self.rules.retention_s)
        self._expire_board()
        took = time.monotonic() - started
        log.info("index rebuilt: %d visits in %.1fs", self.view.visits(max_age_s=0), took)
        self.view.restored["caught_up_s"] = round(took, 3)  # from the service's start
        # from here on, changes are re-matched (the rebuild's own are reflected in the answers)
        self.view.on_change = lambda changed: loop.call_soon_threadsafe(
            self._changed.put_nowait, changed)
        self._tasks = [asyncio.create_task(self._rematch_loop()),
                       asyncio.create_task(self._expire_loop()),
                       asyncio.create_task(self._checkpoint_loop()),
                       asyncio.create_task(self.results.refill_when_empty(self._owned_by_partition))]
        self.owners.start()
        # ready once given its first partitions (a lone replica is given every one), while
        # their cases are answered again in turn: a read or a submission of one not answered
        # yet answers it first (``settled``); one given nothing in a session's time is ready
        # all the same
        deadline = time.monotonic() + OWNERS_WAIT_S
        while not (self._given.is_set() or self.owners.assigned_once.is_set()) \
                and time.monotonic() < deadline:
            with suppress(TimeoutError):  # (the group's callback is not called for nothing)
                await asyncio.wait_for(self._given.wait(), 0.05)
        self.ready = True
        log.info("tracer service ready: %d standing itineraries, %d to answer again here",
                 len(self.board), len(self._unanswered))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        # leave the group first: the others take this replica's cases at once
        await asyncio.to_thread(self.owners.stop)
        self.view.stop()
        self._itineraries.stop()
        self._published.stop()
        self._packing.shutdown(wait=False)
        self.clusters.follower.stop()
        self.followups.follower.stop()
        if self.ready:  # the next start reads only what comes after this
            await asyncio.to_thread(self._checkpoint)
        await asyncio.to_thread(self.producer.close)
        await asyncio.to_thread(self.background_producer.close)
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

    # --- the board: every case, from the itineraries and match-results topics ---------------
    def _handing(self, apply: Callable[[list[Record]], None]) -> Callable[[list[Record]], None]:
        """A follower's handler: its batch goes to the event loop, in order."""
        def hand(batch: list[Record]) -> None:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(apply, batch)
        return hand

    def _apply_itineraries(self, batch: list[Record]) -> None:
        for r in batch:
            if r.key is None or r.value is None:
                continue  # no case (itineraries are never deleted by a tombstone)
            try:
                it = itinerary_codec.decode(r.value)
            except InvalidEvent as exc:
                log.error("itinerary record %s[%d]@%d unreadable, passed over: %s", r.topic,
                          r.partition, r.offset, exc)
                continue
            if not self.board.put_itinerary(it, r.partition, r.offset):
                continue
            self.clusters.put(it)
            if r.partition in self.owned:
                self._own(self._answer_again(it.case_id))

    def _results_read(self, batch: list[Record]) -> None:
        """(The follower's thread.) Results read from the topic, taken unread (~5 ms a
        megabyte each to read: a replica starting takes every case's revisions, and serves
        few of them) and compressed here, off the event loop (the compressor lets the
        interpreter go); this replica's own passed over, applied when it published them."""
        now_ms = int(self.clock() * 1000)
        found = []
        for r in batch:
            if r.key is None or r.value is None:
                continue
            answers, revision, replica = _said(r.headers)
            if replica == self.replica:
                continue
            if revision is None:  # a record from before the header: the JSON's head says it
                revision = head[0] if (head := match_result_codec.head(r.value)) else None
            if revision is None:
                log.error("result record %s[%d]@%d unreadable, passed over: no revision",
                          r.topic, r.partition, r.offset)
                continue
            found.append((r.key.decode(errors="replace"), revision, r.value, answers, now_ms))
        taken = list(self._packing.map(lambda f: Shown.published(*f), found)) \
            if len(found) > 1 else [Shown.published(*f) for f in found]
        if taken:  # (none: this replica's own, read back)
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._apply_results, taken)

    def _apply_results(self, taken: list[Shown]) -> None:
        for shown in taken:
            self._took(shown)  # (passed over when read before)

    def _took(self, shown: Shown) -> None:
        """A revision published (by this replica, or read back from the topic): shown, pushed
        to this replica's watchers, and to a submission waiting for it."""
        if not self.board.put_revision(shown):
            return
        watchers, waiting = self._watchers.get(shown.case_id), self._waiting.get(shown.case_id)
        if (watchers or waiting) and self.board.latest(shown.case_id) is not shown:
            return  # unreadable (let go); or its itinerary not taken yet, when none waits
        for q in list(watchers or ()):
            _push(q, shown)
        if waiting:
            for offset, fut in waiting:
                if offset <= shown.answers_offset and not fut.done():
                    fut.set_result(shown)

    def _expire_board(self) -> None:
        cutoff_ms = (int(self.clock()) - self.rules.retention_s) * 1000
        expired = self.board.expired(cutoff_ms)
        for case_id in expired:
            self.board.drop(case_id)
            self.clusters.remove(case_id)
        self.followups.forget(set(expired))

    # --- ownership: the partitions Kafka's group gives this replica --------------------------
    def _assigned(self, parts: set[int]) -> None:
        """(The group's thread.) Take the cases of ``parts``: wait until the board has read
        both topics to their ends as they are now (a previous owner's last revisions with
        them), then answer each case again; returns once they are all answered."""
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._take(parts), self._loop).result()

    def _revoked(self, parts: set[int]) -> None:
        """(The group's thread.) Give up the cases of ``parts``: returns once nothing of them
        is being answered and what was published is delivered, so the next owner starts from
        every revision this one published."""
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._give_up(parts), self._loop).result(
            OWNERS_WAIT_S)
        self.producer.flush(self.s.api_send_timeout_s)
        self.background_producer.flush(self.s.api_send_timeout_s)

    async def _take(self, parts: set[int]) -> None:
        # (at once: each asks the broker for the ends with a client of its own)
        await asyncio.gather(*(asyncio.to_thread(f.wait_for_end, OWNERS_WAIT_S) for f in (
            self._itineraries, self._published, self.clusters.follower, self.followups.follower)))
        case_ids = [cid for p in parts for cid in self.board.in_partition(p)]
        self.owned |= parts
        self._unanswered.update(case_ids)
        started = time.monotonic()
        await self.clusters.take(parts)
        task = self._own(self._answer_all(case_ids))
        self._given.set()
        await asyncio.gather(task, return_exceptions=True)
        log.info("the %d cases of partitions %s answered again in %.2fs", len(case_ids),
                 sorted(parts), time.monotonic() - started)

    async def _answer_all(self, case_ids: list[str]) -> None:
        """Each case answered again in turn, its stops matched in a thread while the one
        before it is compared (the matching lets the interpreter go): 1,020 cases of 14,000
        contacts took 2.1-3.3 s. Those a read answered first are passed over."""
        def matching(i: int) -> asyncio.Future[Matched] | None:  # (not one answered already)
            if i < len(case_ids) and case_ids[i] in self._unanswered:
                return self._matching(case_ids[i])
            return None

        try:
            ahead = matching(0)
            for i, case_id in enumerate(case_ids):
                matched = await ahead if ahead is not None else None
                ahead = matching(i + 1)
                await self._answer_given(case_id, matched)
        finally:  # (given up, or failed: a read no longer waits for them)
            self._unanswered.difference_update(case_ids)

    async def _answer_given(self, case_id: str, ahead: Matched | None = None) -> None:
        """A case given to this replica, answered again unless it was already."""
        if case_id in self._unanswered:
            await self._answer_again(case_id, ahead)
            self._unanswered.discard(case_id)

    async def _answered_first(self, case_id: str) -> None:
        """A case given to this replica and not answered again yet: answered now, before
        ``_answer_all`` comes to it."""
        try:
            await self._answer_given(case_id)
        except Exception:  # noqa: BLE001 - its last revision is served; answered in its turn
            log.exception("case %s not answered again before its read", case_id)

    @property
    def answering_again(self) -> int:
        """How many owned cases given to this replica are still to be answered again."""
        return len(self._unanswered)

    def _matching(self, case_id: str) -> asyncio.Future[Matched] | None:
        it = self.board.itinerary(case_id)
        if it is None:
            return None
        # (submitted now: a task would start it only when the loop next waits)
        return asyncio.get_running_loop().run_in_executor(None, self.view.answer_ahead, it)

    async def _give_up(self, parts: set[int]) -> None:
        self.owned -= parts
        while self._owning:  # answers under way finish first
            await asyncio.gather(*list(self._owning), return_exceptions=True)
        for case in self.cases:
            if not self._owns(case.case_id):
                async with self._one_at_a_time(case.case_id):  # a re-match under way ends
                    self.cases.drop(case.case_id)
                    self._answers.pop(case.case_id, None)

    def _owns(self, case_id: str) -> bool:
        entry = self.board.entry(case_id)
        return entry is not None and entry.partition in self.owned

    def _own(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._owning.add(task)
        task.add_done_callback(self._owning.discard)
        return task

    async def _answer_again(self, case_id: str, ahead: Matched | None = None) -> None:
        """An owned case, after its itinerary changed or its partition came to this replica:
        answered against what it is now (or against the last revision published), unless it
        already answers its latest version. ``ahead``: its stops matched already, used while
        they are its answer."""
        async with self._one_at_a_time(case_id):
            entry = self.board.entry(case_id)
            if entry is None or entry.itinerary is None or entry.partition not in self.owned:
                return
            it, offset = entry.itinerary, entry.offset
            if self._answers.get(case_id, -1) >= offset:
                return  # answered here already (submitted to this replica)
            current = self.cases.get(case_id)
            if current is not None:
                if not ownership.same_owner(current.itinerary, it):
                    # recorded by a replica that did not know the case was opened already:
                    # the owner's version is recorded again (the latest once more)
                    log.warning("case %s: a version naming another owner ignored", case_id)
                    await self.producer.send(topics.itineraries(self.s), case_id,
                                             itinerary_codec.encode(current.itinerary))
                    return
                if ownership.only_shares_differ(current.itinerary, it):
                    self._shared(current, it, offset)
                    return
                await self._resolve(it, current.result, False, offset)
                return
            last = self.board.held(case_id)
            kept = self._still_published(it, last, ahead) if last is not None else None
            if kept is None and last is not None and not last.readable():
                last = self.board.latest(case_id)  # the unreadable let go: the one before it
                kept = self._still_published(it, last, ahead) if last is not None else None
            if kept is not None:
                self._answers[case_id] = max(offset, self._answers.get(case_id, -1))
                self._hold(kept)
                return
            published = _decoded(last) if last is not None else None
            old = self._from_published(it, published)
            # a version its last revision does not answer (its owner died before answering,
            # or it changed only the classification or the card) gets a revision of its own
            await self._resolve(it, old, published is None or not reflects(published, it),
                                offset)

    def _owned_by_partition(self) -> dict[int, list[Case]]:
        out: dict[int, list[Case]] = {p: [] for p in self.owned}
        for case in self.cases:
            entry = self.board.entry(case.case_id)
            if entry is not None and entry.partition in out:
                out[entry.partition].append(case)
        return out

    def _hold(self, result: Result, flagged_at: dict[str, int] | None = None) -> None:
        """An owned case held as it stands now, without its JSON: the board holds that
        (compressed), and it is encoded again only if read."""
        self.cases.put(Case(result, self._encode, flagged_at))

    def _still_published(self, it: Itinerary, last: Shown,
                         ahead: Matched | None = None) -> Result | None:
        """The case's result now, when it is its last revision published byte for byte (so no
        revision to make, as :func:`next_revision` would find after decoding it): matched
        again and encoded, ~5 ms for 14,000 contacts, where decoding the published one and
        interning its cards took ~50 ms (a replica given 1,000 such cases at its start was
        ready after 55 s). None: a different answer, or not written by this encoder."""
        raw = last.json
        said = match_result_codec.head(raw)
        if said is None:
            return None
        stops = ahead.stops if ahead is not None and ahead.itinerary is it \
            and self.view.unchanged_since(ahead) else self.view.answer(it)
        now = Result(it, said[0], said[1], stops)
        return now if self._encode(now) == raw else None

    def _from_published(self, it: Itinerary, last: MatchResult | None) -> Result | None:
        if last is None:
            return None
        with self.view.lock:
            return from_published(last, it, self.index)

    # --- answering ------------------------------------------------------------------------------
    async def submit(self, body: Itinerary, by: ownership.Caller,
                     audit: Disclosure | None = None,
                     answered: Answering | None = None) -> Submitted:
        """Apply a submission of ``body`` by ``by``: a new version is recorded (acknowledged
        by Kafka before anything else), answered by the case's owner, and kept re-matched.
        ``audit``: the answer's disclosure to record, when this replica answers it (then
        ``Submitted.audited``): sent as soon as the revision is made and acknowledged before
        this returns; what it raises, this raises (the case recorded and answered all the
        same, as when the caller's own audit fails after). ``answered``: given the default
        answer as soon as it is made and its disclosure acknowledged, when this replica
        answers it, before the whole result is encoded and published (then
        ``Submitted.answered``)."""
        await self._answered_first(body.case_id)  # (its last revision, checked first)
        async with self._one_at_a_time(body.case_id):
            current = self.board.itinerary(body.case_id)
            decision = ownership.submit(current, body, by, int(self.clock() * 1000))
            it = decision.itinerary
            latest = self.board.held(body.case_id)  # (its number; served only if unchanged)
            if it is None:  # unchanged, or not the submitter's
                return Submitted(self.board.latest(body.case_id)
                                 if decision.outcome is Outcome.UNCHANGED else None,
                                 decision.outcome)
            acknowledged = self.producer.sending(
                topics.itineraries(self.s), it.case_id, itinerary_codec.encode(it))
            # answered while Kafka acknowledges the record, when the case is likely this
            # replica's (its partition is murmur2 of the key, as the producer's partitioner)
            entry = self.board.entry(it.case_id)
            likely = entry.partition if entry is not None and entry.partition >= 0 else \
                partition_of(it.case_id.encode(), self._itinerary_partitions)
            stops = self.view.answer(it) if likely in self.owned else None
            partition, offset = await acknowledged
            metrics.ITINERARIES.labels(it.classification).inc()
            if self.board.put_itinerary(it, partition, offset):
                self.clusters.put(it)
            previous = latest.revision if latest is not None and current is not None else None
            if partition in self.owned:
                owned = self.cases.get(it.case_id)
                outcome = decision.outcome
                disclose = None if audit is None else (
                    lambda case: audit(case, outcome, previous))
                give = None if answered is None else (
                    lambda answer: answered(answer, outcome))
                await self._resolve(it, owned.result if owned else None, True, offset, stops,
                                    disclose, give)
                return Submitted(self.board.latest(it.case_id), decision.outcome, previous,
                                 audited=audit is not None, answered=answered is not None)
        # not the owner: wait for the owner's answer without holding the case (this replica
        # may become its owner meanwhile, and then answers it itself)
        return Submitted(await self._answer_of(it.case_id, offset), decision.outcome, previous)

    async def _answer_of(self, case_id: str, offset: int) -> Shown | None:
        """The revision answering the version at ``offset`` (published by the case's owner,
        read from the match-results topic); None when none came in ``ANSWER_WAIT_S``."""
        shown = self.board.latest(case_id)
        if shown is not None and shown.answers_offset >= offset:
            return shown
        fut: asyncio.Future[Shown] = asyncio.get_running_loop().create_future()
        waiting = self._waiting[case_id]
        waiting.append((offset, fut))
        try:
            return await asyncio.wait_for(fut, ANSWER_WAIT_S)
        except TimeoutError:
            return None
        finally:
            waiting.remove((offset, fut))
            if not waiting:
                del self._waiting[case_id]

    async def share(self, case_id: str, with_name: str) -> Itinerary | None:
        """Let principal ``with_name`` read and watch the case too (a new version of its
        itinerary, acknowledged; the result and its revision do not change). None: no such
        standing case. Raises ``ValueError`` past the record's limit."""
        async with self._one_at_a_time(case_id):
            current = self.board.itinerary(case_id)
            if current is None or self.board.held(case_id) is None:
                return None
            it = ownership.shared(current, with_name)
            if it is not current:
                partition, offset = await self.producer.send(
                    topics.itineraries(self.s), case_id, itinerary_codec.encode(it))
                self.board.put_itinerary(it, partition, offset)
                owned = self.cases.get(case_id)
                if owned is not None and partition in self.owned:
                    self._shared(owned, it, offset)
            return it

    def _shared(self, case: Case, it: Itinerary, offset: int) -> None:
        """An owned case now shared with more principals (version ``it`` at ``offset``): the
        same result and revision, the new itinerary."""
        self._hold(replace(case.result, itinerary=it), case.flagged_at)
        self._answers[case.case_id] = offset

    async def settled(self, case_id: str) -> None:
        """Returns once this replica's answer to the case is shown: a case of its own given
        to it and not answered again yet (after a start, or a handover) is answered first, so
        a read never gets a revision its owner has not checked against the index as it is;
        and the revision of a submission whose default answer went out before it was shown
        (``submit``'s ``answered``) is waited for, so a read that follows such an answer sees
        it. Nothing else is waited for."""
        await self._answered_first(case_id)
        showing = self._showing.get(case_id)
        if showing is not None:
            await showing.wait()

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

    async def _resolve(self, it: Itinerary, old: Result | None, publish_unchanged: bool,
                       offset: int, stops: tuple[StopResult, ...] | None = None,
                       audit: Callable[[Shown | Answer], Awaitable[None]] | None = None,
                       answered: Callable[[Answer], Awaitable[None]] | None = None) -> Case:
        """Answer ``it`` (the version at ``offset`` of an owned case; ``stops``: its answer
        from the index when made already); when the domain says it is a new revision, publish
        its gap events and the result, show it, store it. ``audit``: the disclosure of the new
        revision to record, sent first and awaited last (its acknowledgement overlaps the
        rest); what it or its awaitable raises, this raises, once the case is updated.
        ``answered``: given the new revision's default answer before its whole result is
        encoded (the disclosure recorded is then of that answer, acknowledged before it)."""
        if stops is None:
            stops = self.view.answer(it)
        held = self.board.held(it.case_id)
        rev = next_revision(self.cases.get(it.case_id), old, it, stops, int(self.clock() * 1000),
                            self._encode, publish_unchanged, held.revision if held else 0)
        self._answers[it.case_id] = max(offset, self._answers.get(it.case_id, -1))
        audited: Awaitable[None] | None = None
        refused: Exception | None = None
        showing: asyncio.Event | None = None
        try:
            if rev.published:
                summary = self._summary(rev.case.result)
                if answered is not None:  # the default answer first, disclosed
                    showing = self._showing[it.case_id] = asyncio.Event()
                    try:
                        if audit is not None:
                            await audit(summary)
                        await answered(summary)
                    except Exception as exc:  # noqa: BLE001 - raised once the case is updated
                        refused = exc
                    audit = None
                shown = Shown.of(it.case_id, rev.case.revision, rev.case.json,
                                 rev.case.stop_count, rev.case.contacts, summary, offset,
                                 int(self.clock() * 1000))
                if audit is not None:  # handed to Kafka before the result
                    audited = audit(shown)
                for g in rev.gaps:
                    self.background_producer.send_nowait(topics.gaps(self.s), gap_codec.key(g),
                                                         gap_codec.encode(g))
                    metrics.GAPS.labels(g.status).inc()
                # stamped with the submission time: the topic's retention removes every
                # revision of the result when the case expires
                self.background_producer.send_nowait(
                    topics.match_results(self.s), it.case_id, rev.case.json,
                    headers=[(ITINERARY_HEADER, str(offset).encode()),
                             (REVISION_HEADER, str(rev.case.revision).encode()),
                             (REPLICA_HEADER, self.replica.encode())],
                    timestamp_ms=it.submitted_at_ms or 0)
                self._took(shown)
                await self.results.store(rev.case)
            self._hold(rev.case.result, rev.case.flagged_at)
        finally:
            if showing is not None:
                showing.set()
                del self._showing[it.case_id]
            if audited is not None:
                await audited
        if refused is not None:
            raise refused
        return rev.case

    def _encode(self, result: Result) -> bytes:
        return encode_result(result, self.index, self.rules.close_contact_s)

    def _summary(self, result: Result) -> Answer:
        close_s = self.rules.close_contact_s
        return summary_of_result(result, close_s, lambda cards_, overlaps:
                                 self.index.cards.contacts_json(cards_, overlaps, close_s))

    async def chain(self, it: Itinerary, rings: int) -> chains.Chain:
        """The case's rings of close contacts from the index now (a thread; under its lock)."""
        def expand() -> chains.Chain:
            with self.view.lock:
                return chains.chain(self.index, it, self.rules.close_contact_s, rings)
        return await asyncio.to_thread(expand)

    # --- watchers (server-sent events) -----------------------------------------------------------
    def subscribe(self, case_id: str) -> asyncio.Queue[Shown | None]:
        """A queue receiving each new revision of the case; ``None`` when the watcher fell
        more than ``WATCH_QUEUE`` revisions behind (it is dropped, not buffered without bound:
        its client reconnects with ``Last-Event-ID`` and gets what it missed)."""
        q: asyncio.Queue[Shown | None] = asyncio.Queue(WATCH_QUEUE)
        self._watchers[case_id].add(q)
        return q

    def unsubscribe(self, case_id: str, q: asyncio.Queue[Shown | None]) -> None:
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
                # one case at a time, the event loop free in between: hundreds of cases are
                # affected at busy venues while scans arrive, and a request waited for all
                # their re-matching at once (278 ms at 20,000 scans/s in `bench serving`)
                await asyncio.sleep(0)
                async with self._one_at_a_time(case_id):
                    case = self.cases.get(case_id)
                    if case is None or not self._owns(case_id):
                        continue
                    after = await self._resolve(case.itinerary, case.result, False,
                                                self._answers.get(case_id, -1))
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
            self._answers.pop(case_id, None)
        self._expire_board()
        if forgotten:
            for case in self.cases.reaching_before(cutoff_s, self.rules.tolerance_s):
                async with self._one_at_a_time(case.case_id):
                    now = self.cases.get(case.case_id)
                    if now is not None and self._owns(case.case_id):
                        await self._resolve(now.itinerary, now.result, False,
                                            self._answers.get(case.case_id, -1))
        # then the card ids no visit and no standing result names any more leave memory
        # (no await between the references taken and the forgetting)
        cards_forgotten = self.view.forget_cards(
            stop.cards for case in self.cases for stop in case.result.stops)
        if cards_forgotten:
            log.info("retention: %d card ids forgotten", cards_forgotten)


def _said(headers: Headers | None) -> tuple[int, int | None, str | None]:
    """What a result record's headers say: the offset of the itinerary version it answers (-1:
    a record from before replicas said it), its revision (None: not said; the JSON has it) and
    the replica that published it (None: not said)."""
    answers, revision, replica = -1, None, None
    for name, value in headers or ():
        if value is None:
            continue
        if name == ITINERARY_HEADER and value.isdigit():
            answers = int(value)
        elif name == REVISION_HEADER and value.isdigit():
            revision = int(value)
        elif name == REPLICA_HEADER:
            replica = value.decode(errors="replace")
    return answers, revision, replica


def _decoded(shown: Shown) -> MatchResult | None:
    try:
        return match_result_codec.decode(shown.json)
    except InvalidEvent as exc:
        log.warning("last result of %s unreadable (%s); answering anew", shown.case_id, exc)
        return None


def _push(q: asyncio.Queue[Shown | None], case: Shown) -> None:
    """A revision to one watcher; one too far behind gets ``None`` instead: the end."""
    if q.qsize() >= WATCH_QUEUE:
        while not q.empty():
            q.get_nowait()
        q.put_nowait(None)
    else:
        q.put_nowait(case)
