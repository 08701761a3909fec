"""The tracer service: the visit index, standing itineraries and their results.

Threads and ordering:
- the *index follower* thread reads the whole visits topic and applies it to the
  :class:`VisitIndex` in chunks under ``lock``; every chunk's changed (venue, day) buckets are
  handed to the event loop;
- everything else runs on the asyncio loop: answering itineraries (under ``lock``, a few
  milliseconds at most), re-matching standing itineraries whose stops touch changed buckets,
  publishing results and gaps, notifying stream subscribers.

State survives restarts through Kafka alone: the index is rebuilt from the compacted visits
topic, standing itineraries from the itineraries topic, the last published revision of each
result from the match-results topic. Redis holds the latest result per case (shared with
other API processes and dashboards) and carries revision notifications (pub/sub).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
import redis.asyncio as aioredis
from confluent_kafka import Message

from truyvet.domain.matching.matcher import Result, StopResult, decode_result, encode_result, gap_events, match, same_stops
from truyvet import metrics, topics
from truyvet.topics import MAX_RESULT_BYTES
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec import visits as visits_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.itinerary import Itinerary
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.kafka.follower import TopicFollower
from truyvet.domain.matching import cards
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.rules import DAY_S
from truyvet.settings import Settings

log = logging.getLogger(__name__)
APPLY_CHUNK = 1000  # visit buckets applied per lock hold: bounds the wait of a query
COALESCE_S = 1.0  # a standing result changes at most about once a second


@dataclass
class Case:
    result: Result
    json: bytes  # the result as served and published
    flagged_at: dict[str, str] = field(default_factory=dict)  # gap_id -> when it opened

    @property
    def itinerary(self) -> Itinerary:
        return self.result.itinerary

    def expires_at_s(self, retention_s: int) -> int:
        """A case, and every copy of its result, is kept for the retention after submission."""
        return (self.itinerary.submitted_at_ms or 0) // 1000 + retention_s


class TracerService:
    def __init__(self, s: Settings, clock: Callable[[], float] = time.time) -> None:
        self.s = s
        self.rules = s.rules()
        self.clock = clock
        self.index = VisitIndex()
        self.lock = threading.Lock()
        self.cases: dict[str, Case] = {}
        self.by_venue: dict[str, set[str]] = defaultdict(set)
        self.ready = False
        self.redis = aioredis.Redis.from_url(s.redis_url, socket_timeout=2)
        self.producer = AsyncProducer(s, "truyvet-api", **{"message.max.bytes": MAX_RESULT_BYTES})
        self._subscribers: dict[str, set[asyncio.Queue[Case]]] = defaultdict(set)
        self._changed: asyncio.Queue[set[tuple[str, int]]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._visits = TopicFollower(s, topics.visits(s), self._on_visits, "api-index")
        self._tasks: list[asyncio.Task[None]] = []
        self.invalid_visit_records = 0

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild from Kafka, answer every standing itinerary again, then serve."""
        self._loop = asyncio.get_running_loop()
        started = time.monotonic()
        self._visits.start()
        cards.warm_up()
        itineraries, published = await asyncio.gather(
            asyncio.to_thread(_latest_by_key, self.s, topics.itineraries(self.s)),
            asyncio.to_thread(_latest_by_key, self.s, topics.match_results(self.s)),
        )
        await asyncio.to_thread(self._visits.wait_caught_up)
        with self.lock:  # Kafka deletes whole segments: some records may be past the retention
            self.index.expire(int(self.clock()) - self.rules.retention_s)
        log.info("index rebuilt: %d visits in %.1fs", self.index.visits(),
                 time.monotonic() - started)
        cutoff_ms = int(self.clock() * 1000) - self.rules.retention_s * 1000
        for raw in itineraries.values():
            try:
                it = itinerary_codec.decode(raw)
            except InvalidEvent:
                continue
            if (it.submitted_at_ms or 0) < cutoff_ms:
                continue
            last = published.get(it.case_id.encode())
            old = None
            if last is not None:
                try:
                    old = decode_result(last, it, self.index)
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("last result of %s unreadable (%s); answering anew", it.case_id, exc)
            await self._resolve(it, old, publish_unchanged=False)
        self._drain_changes()  # the rebuild's own changes are already reflected
        self._tasks = [asyncio.create_task(self._rematch_loop()),
                       asyncio.create_task(self._expire_loop()),
                       asyncio.create_task(self._redis_watch_loop())]
        self.ready = True
        log.info("tracer service ready: %d standing itineraries", len(self.cases))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._visits.stop()
        await asyncio.to_thread(self.producer.close)
        await self.redis.aclose()

    # --- the index (follower thread) --------------------------------------------------------------
    def _on_visits(self, msgs: list[Message]) -> None:
        updates = []
        for m in msgs:
            try:
                updates.append(visits_codec.decode(m.key(), m.value()))
            except InvalidEvent as exc:
                self.invalid_visit_records += 1
                log.error("visits record %s[%d]@%d: %s", m.topic(), m.partition(), m.offset(), exc)
        for i in range(0, len(updates), APPLY_CHUNK):
            chunk = updates[i:i + APPLY_CHUNK]
            with self.lock:
                self.index.apply(chunk)
            if self._loop is not None and self.ready:
                changed = {(u[0], u[1]) for u in chunk}
                self._loop.call_soon_threadsafe(self._changed.put_nowait, changed)
        metrics.INDEX_VISITS.set(self.index.visits())

    # --- answering ------------------------------------------------------------------------------
    def answer(self, it: Itinerary) -> tuple[StopResult, ...]:
        started = time.perf_counter()
        with self.lock:
            stops = match(self.index, self.rules, it)
        metrics.MATCH_LATENCY.observe(time.perf_counter() - started)
        return stops

    async def submit(self, it: Itinerary) -> tuple[bytes, bool]:
        """Answer, record (acknowledged by Kafka before we return) and keep re-matching.
        Returns the result's JSON and whether the case is new."""
        now_ms = int(self.clock() * 1000)
        it = Itinerary(it.case_id, it.classification, it.card_id, it.stops, now_ms, it.submitted_by)
        await self.producer.send(topics.itineraries(self.s), it.case_id,
                                 itinerary_codec.encode(it))
        metrics.ITINERARIES.labels(it.classification).inc()
        previous = self.cases.get(it.case_id)
        case = await self._resolve(it, previous.result if previous else None,
                                   publish_unchanged=True)
        return case.json, previous is None

    async def _resolve(self, it: Itinerary, old: Result | None, publish_unchanged: bool) -> Case:
        """Match ``it``; when the stops differ from ``old`` (or when asked), make a new revision
        and publish it with its gap events."""
        stops = self.answer(it)
        now_ms = int(self.clock() * 1000)
        previous = self.cases.get(it.case_id)
        flagged = dict(previous.flagged_at) if previous else {}
        if (old is not None and not publish_unchanged and old.itinerary == it
                and same_stops(old.stops, stops)):
            case = previous if previous is not None and previous.result is old else Case(
                old, encode_result(old, self.index, self.rules.close_contact_s), flagged)
        else:
            res = Result(it, (old.revision + 1) if old else 1, now_ms, stops)
            for event in gap_events(it, old.stops if old else None, stops, now_ms, flagged):
                if event["status"] == "open":
                    flagged[event["gap_id"]] = event["flagged_at"]
                else:
                    flagged.pop(event["gap_id"], None)
                self.producer.send_nowait(topics.gaps(self.s), event["venue_id"],
                                          orjson.dumps(event))
                metrics.GAPS.labels(event["status"]).inc()
            case = Case(res, encode_result(res, self.index, self.rules.close_contact_s), flagged)
            # stamped with the submission time: the topic's retention removes every revision
            # of the result when the case expires
            self.producer.send_nowait(topics.match_results(self.s), it.case_id, case.json,
                                      timestamp_ms=it.submitted_at_ms or 0)
            await self._store(case)
        if previous is not None:
            for stop in previous.itinerary.stops:
                self.by_venue[stop.venue_id].discard(it.case_id)
        self.cases[it.case_id] = case
        for stop in it.stops:
            self.by_venue[stop.venue_id].add(it.case_id)
        return case

    async def _store(self, case: Case) -> None:
        case_id = case.itinerary.case_id
        for q in self._subscribers.get(case_id, ()):
            q.put_nowait(case)
        try:
            key = f"{self.s.topic_prefix}:result:{case_id}"
            await self.redis.set(key, case.json, exat=case.expires_at_s(self.rules.retention_s))
            # a notification, not the result (hundreds of kB at busy venues): read the key
            await self.redis.publish(f"{self.s.topic_prefix}:results", orjson.dumps(
                {"case_id": case_id, "revision": case.result.revision}))
        except Exception as exc:  # noqa: BLE001 - Redis is a cache here; Kafka has it
            log.warning("storing result of %s in Redis failed: %s", case_id, exc)

    def get(self, case_id: str) -> tuple[int, bytes] | None:
        """(revision, JSON) of the latest result."""
        case = self.cases.get(case_id)
        return (case.result.revision, case.json) if case else None

    @property
    def followers(self) -> list[TopicFollower]:
        return [self._visits]

    def index_positions(self) -> dict[int, int]:
        return dict(self._visits.positions)

    def subscribe(self, case_id: str) -> asyncio.Queue[Case]:
        """A queue receiving each new revision of the case."""
        q: asyncio.Queue[Case] = asyncio.Queue()
        self._subscribers[case_id].add(q)
        return q

    def unsubscribe(self, case_id: str, q: asyncio.Queue[Case]) -> None:
        self._subscribers[case_id].discard(q)
        if not self._subscribers[case_id]:
            del self._subscribers[case_id]

    # --- re-matching ---------------------------------------------------------------------------------
    def _drain_changes(self) -> set[tuple[str, int]]:
        changed: set[tuple[str, int]] = set()
        while not self._changed.empty():
            changed |= self._changed.get_nowait()
        return changed

    def affected(self, changed: set[tuple[str, int]]) -> set[str]:
        """Standing cases with a stop whose window (± tolerance) may meet a changed bucket."""
        tol = self.rules.tolerance_s
        out = set()
        for venue, day in changed:
            cases = self.by_venue.get(venue)
            if not cases:
                continue
            lo = day * DAY_S
            hi = (day + 1) * DAY_S + self.index.longest.get(venue, 0)
            for case_id in cases:
                for stop in self.cases[case_id].itinerary.stops:
                    if (stop.venue_id == venue and stop.from_ms // 1000 - tol <= hi
                            and stop.to_ms // 1000 + tol >= lo):
                        out.add(case_id)
                        break
        return out

    async def _rematch_loop(self) -> None:
        while True:
            changed = await self._changed.get()
            await asyncio.sleep(COALESCE_S)
            changed |= self._drain_changes()
            for case_id in sorted(self.affected(changed)):
                case = self.cases.get(case_id)
                if case is None:
                    continue
                before = case.result
                after = await self._resolve(case.itinerary, before, publish_unchanged=False)
                if after.result is not before:
                    metrics.RESULT_REVISIONS.inc()

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(self.rules.sweep_every_s)
            await self.expire()

    async def expire(self) -> None:
        """Apply the retention: visits that ended before it leave the index; cases submitted
        before it are forgotten (Redis keys expire by themselves at the same moment, Kafka's
        retention removes their records); standing cases with a stop reaching back before it
        are answered again, so that no result lists a contact older than the retention."""
        now_s = int(self.clock())
        cutoff_s = now_s - self.rules.retention_s
        with self.lock:
            forgotten = self.index.expire(cutoff_s)
        for case_id, case in list(self.cases.items()):
            if case.expires_at_s(self.rules.retention_s) <= now_s:
                del self.cases[case_id]
                for stop in case.itinerary.stops:
                    self.by_venue[stop.venue_id].discard(case_id)
            elif forgotten and min(st.from_ms for st in case.itinerary.stops) // 1000 \
                    - self.rules.tolerance_s < cutoff_s:
                await self._resolve(case.itinerary, case.result, publish_unchanged=False)


    async def _redis_watch_loop(self, every_s: float = 2.0) -> None:
        """Redis holds only copies (no persistence): when it comes back empty — flushed or
        restarted — write every current result again. A marker key says it is filled."""
        marker = f"{self.s.topic_prefix}:api-filled"
        while True:
            await asyncio.sleep(every_s)
            try:
                if await self.redis.exists(marker):
                    continue
                started = time.monotonic()
                cases = list(self.cases.values())
                pipe = self.redis.pipeline(transaction=False)
                for case in cases:
                    pipe.set(f"{self.s.topic_prefix}:result:{case.itinerary.case_id}", case.json,
                             exat=case.expires_at_s(self.rules.retention_s))
                pipe.set(marker, b"1")
                await pipe.execute()
                metrics.REDIS_REFILLS.inc()
                log.info("Redis was empty: %d results written again in %.2fs", len(cases),
                         time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - Redis away: the answers do not need it
                log.debug("Redis unavailable: %s", exc)


def _latest_by_key(s: Settings, topic: str) -> dict[bytes, bytes]:
    """The latest non-null value per key of a whole topic, read once."""
    latest: dict[bytes, bytes] = {}

    def on_batch(msgs: list[Message]) -> None:
        for m in msgs:
            if m.key() is None:
                continue
            if m.value() is None:
                latest.pop(m.key(), None)
            else:
                latest[m.key()] = m.value()

    follower = TopicFollower(s, topic, on_batch, f"restore-{topic.rsplit('.', 2)[-2]}")
    follower.start()
    follower.wait_caught_up()
    follower.stop()
    return latest
