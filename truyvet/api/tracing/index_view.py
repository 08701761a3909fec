"""The visit index of an API process, following the whole visits topic.

The follower thread decodes visit buckets and applies them to the
:class:`~truyvet.domain.matching.index.VisitIndex` in chunks under ``lock`` (a query waits at
most one chunk), and hands every chunk's changed (venue, day) buckets to ``on_change`` (the
service's re-matching). Answers are computed under the same lock, on the event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from truyvet import metrics, topics
from truyvet.codec import visits as visits_codec
from truyvet.codec.itinerary import Itinerary
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.matcher import StopResult, match
from truyvet.domain.matching.rules import MatchRules
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.record import Record
from truyvet.settings import Settings

APPLY_CHUNK = 1000  # visit buckets applied per lock hold: bounds the wait of a query
Changes = set[tuple[str, int]]


class IndexView:
    def __init__(self, s: Settings, rules: MatchRules, backend: Backend | None = None) -> None:
        self.rules = rules
        self.index = VisitIndex()
        self.lock = threading.Lock()
        self.on_change: Callable[[Changes], None] | None = None  # set once serving
        self.follower = TopicFollower(s, topics.visits(s), self._apply, "api-index",
                                      backend=backend)

    def start(self) -> None:
        self.follower.start()

    def wait_caught_up(self) -> None:
        self.follower.wait_caught_up()

    def stop(self) -> None:
        self.follower.stop()

    def positions(self) -> dict[int, int]:
        """Per partition of the visits topic, the next offset applied to the index."""
        return dict(self.follower.positions)

    def answer(self, it: Itinerary) -> tuple[StopResult, ...]:
        started = time.perf_counter()
        with self.lock:
            stops = match(self.index, self.rules, it)
        metrics.MATCH_LATENCY.observe(time.perf_counter() - started)
        return stops

    def expire(self, cutoff_s: int) -> int:
        """Forget visits that ended before ``cutoff_s``; returns how many."""
        with self.lock:
            return self.index.expire(cutoff_s)

    def forget_cards(self, also_referenced) -> int:  # type: ignore[no-untyped-def]
        """Forget the cards nothing references any more (``VisitIndex.forget_cards``)."""
        with self.lock:
            return self.index.forget_cards(also_referenced)

    def _apply(self, batch: list[Record]) -> None:  # the follower's thread
        # a record the codec refuses raises before anything is applied: the follower then
        # passes over that record alone (``truyvet.kafka.follower``)
        updates = [visits_codec.decode_record(r.key, r.value) for r in batch]
        for i in range(0, len(updates), APPLY_CHUNK):
            chunk = updates[i:i + APPLY_CHUNK]
            with self.lock:
                self.index.apply(chunk)
            if self.on_change is not None:
                self.on_change({(u.venue, u.day) for u in chunk})
        metrics.INDEX_VISITS.set(self.index.visits())
