"""The visit index of an API process, following the whole visits topic.

The follower thread decodes visit buckets and applies them to the
:class:`~truyvet.domain.matching.index.VisitIndex` in chunks, and hands every chunk's changed
(venue, day) buckets to ``on_change`` (the service's re-matching). Answers are computed under
``lock``, on the event loop. A chunk is prepared without it (the rows it replaces found, the
rows it adds made) and only written under it: an answer waits for one chunk's array stores at
most, not for its preparing (under load, 23-57 ms of lock waits in a POST's slowest 2 %
before). ``writer`` lets one thread at a time change the index: the follower, the retention
sweep, the cards' forgetting. The card table changes under ``lock`` only (a commit's new
cards, a published result's cards when its case is taken back), as before.

At start the view loads its checkpoint when one fits (``truyvet.api.tracing.checkpoint``) and
follows the topic from the checkpoint's offsets; otherwise from the beginning, and then, with
the compiled core, the whole first catch-up goes to its bulk loader (``native/src/index_loader.rs``,
held to the records' path by tests/unit/test_index_loader.py), which makes the index's columns
in one go when it is done (:class:`FirstLoad`).
:meth:`IndexView.checkpoint` writes a new one (any thread; the lock is held only to copy).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from truyvet import metrics, topics
from truyvet.codec import visits as visits_codec
from truyvet.api.tracing import checkpoint
from truyvet.codec.native import core
from truyvet.codec.itinerary import Itinerary
from truyvet.domain.matching import index_columns
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.matcher import StopResult, match
from truyvet.domain.matching.rules import MatchRules
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.record import Record
from truyvet.settings import Settings

log = logging.getLogger(__name__)
APPLY_CHUNK = 1000  # visit buckets prepared, then committed under the lock, at a time
# the visits held are counted at most this often (``IndexView.visits``): counting walks every
# bucket, ~1 ms of the event loop at 5 M visits, and /healthz may be polled many times a second
VISITS_COUNTED_S = 1.0
Changes = set[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Matched:
    """An itinerary's stops as matched in an index at one count of its changes."""

    itinerary: Itinerary
    stops: tuple[StopResult, ...]
    index: VisitIndex
    changes: int


class IndexView:
    def __init__(self, s: Settings, rules: MatchRules, backend: Backend | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.s = s
        self.rules = rules
        self.clock = clock
        self.index = VisitIndex()
        self.lock = threading.Lock()  # readers, and a writer's commit
        self.writer = threading.Lock()  # one writer at a time (taken before ``lock``)
        self.on_change: Callable[[Changes], None] | None = None  # set once serving
        self.topic = topics.visits(s)
        self.follower = TopicFollower(s, self.topic, self._apply, "api-index", backend=backend)
        self.checkpoints = s.api_checkpoint_s > 0
        self.checkpoint_path = checkpoint.path(s)
        # how the index started: from a checkpoint or the whole topic, and why
        self.restored: dict[str, Any] = {"from": "topic", "reason": "checkpoints are off"}
        self.last_checkpoint: dict[str, Any] | None = None
        self._writing = threading.Lock()  # one checkpoint written at a time
        self._counted: tuple[float, int] | None = None  # (when, visits held)

    def start(self) -> None:
        # counted when scraped (counting walks every bucket: once a batch, it cost the follower
        # a millisecond or two, dozens of times a second while visits come)
        metrics.INDEX_VISITS.set_function(self.visits)
        if core is not None:  # until a checkpoint is loaded instead (``_resume``)
            self.follower.bulk = FirstLoad(self)
        self.follower.start(resume=self._resume if self.checkpoints else None)

    def _resume(self, marks: dict[int, tuple[int, int]]) -> dict[int, int] | None:
        """Where to follow the topic from: a checkpoint's offsets, its index installed, when
        it fits the topic now (the follower's start, before it reads)."""
        started = time.monotonic()
        try:
            cp = checkpoint.load(self.checkpoint_path)
            reason = checkpoint.why_unusable(
                cp, self.topic, self.rules.retention_s, checkpoint.max_age_ms(self.s),
                int(self.clock() * 1000)) or checkpoint.why_offsets_do_not_fit(cp.positions, marks)
            if not reason:
                self.replace_index(index_columns.build(cp.columns))
                self.follower.bulk = None  # the records after it go the records' way
        except FileNotFoundError:
            self.restored = {"from": "topic", "reason": "no checkpoint yet"}
            return None
        except (checkpoint.Unreadable, ValueError) as exc:
            reason = f"unreadable: {exc}"
        if reason:
            log.warning("index checkpoint %s not used, rebuilding from %s: %s",
                        self.checkpoint_path, self.topic, reason)
            self.restored = {"from": "topic", "reason": f"checkpoint not used: {reason}"}
            return None
        behind = sum(max(0, high - cp.positions[p]) for p, (_, high) in marks.items())
        self.restored = {"from": "checkpoint", "written_ms": cp.written_ms,
                         "visits": cp.columns.visits, "records_after": behind,
                         "load_s": round(time.monotonic() - started, 3)}
        log.info("index loaded from checkpoint %s: %d visits in %.2fs, %d records after it",
                 self.checkpoint_path, cp.columns.visits, time.monotonic() - started, behind)
        return cp.positions

    def visits(self, max_age_s: float | None = None) -> int:
        """The visits held, counted under the lock (the follower adds and drops buckets
        meanwhile) at most every ``max_age_s`` (default ``VISITS_COUNTED_S``)."""
        now = time.monotonic()
        counted = self._counted
        if counted is None or now - counted[0] >= (
                VISITS_COUNTED_S if max_age_s is None else max_age_s):
            with self.lock:
                counted = self._counted = (now, self.index.visits())
        return counted[1]

    def replace_index(self, index: VisitIndex) -> None:
        """Answer from ``index`` now (a checkpoint's, or the bulk catch-up's): swapped under
        the lock, the count of visits taken of the one before forgotten."""
        with self.lock:
            self.index = index
            self._counted = None

    def checkpoint(self) -> int | None:
        """Write a checkpoint of the index now; its size in bytes, or None when there is
        nothing worth writing (checkpoints off, not caught up yet, or the follower passed over
        records it failed on: the index lacks them, and a restart must read them again)."""
        if not self.checkpoints or not self.follower.caught_up or self.follower.degraded:
            return None
        with self._writing:
            return self._write_checkpoint()

    def _write_checkpoint(self) -> int:
        started = time.monotonic()
        positions = self.positions()  # first: the copy reflects at least these
        holds: list[float] = []
        columns = index_columns.take(self.index, lambda: _timed(self.lock, holds))
        held = max(holds, default=0.0)
        cp = checkpoint.Checkpoint(self.topic, positions, int(self.clock() * 1000),
                                   self.rules.retention_s, index_columns.compacted(columns))
        size = checkpoint.save(self.checkpoint_path, cp)
        took = time.monotonic() - started
        self.last_checkpoint = {"written_ms": cp.written_ms, "visits": cp.columns.visits,
                                "bytes": size, "write_s": round(took, 3),
                                "lock_held_s": round(held, 4)}  # the longest hold
        metrics.INDEX_CHECKPOINT_WRITTEN.set(cp.written_ms / 1000)
        log.info("index checkpoint written: %d visits, %d bytes in %.2fs (lock held %.3fs at most)",
                 cp.columns.visits, size, took, held)
        return size

    def wait_caught_up(self) -> None:
        self.follower.wait_caught_up()

    def stop(self) -> None:
        self.follower.stop()

    def positions(self) -> dict[int, int]:
        """Per partition of the visits topic, the next offset applied to the index."""
        return dict(self.follower.positions)

    def answer(self, it: Itinerary) -> tuple[StopResult, ...]:
        return self.answer_ahead(it).stops

    def answer_ahead(self, it: Itinerary) -> Matched:
        """The stops of ``it`` and the index they were matched in (any thread): they are its
        answer while :meth:`unchanged_since` says so."""
        started = time.perf_counter()
        with self.lock:
            index = self.index
            changes = index.changes
            stops = match(index, self.rules, it, self.s.match_threads)
        metrics.MATCH_LATENCY.observe(time.perf_counter() - started)
        return Matched(it, stops, index, changes)

    def unchanged_since(self, m: Matched) -> bool:
        return self.index is m.index and m.index.changes == m.changes

    def expire(self, cutoff_s: int) -> int:
        """Forget visits that ended before ``cutoff_s``; returns how many."""
        with self.writer, self.lock:
            return self.index.expire(cutoff_s)

    def forget_cards(self, also_referenced) -> int:  # type: ignore[no-untyped-def]
        """Forget the cards nothing references any more (``VisitIndex.forget_cards``)."""
        with self.writer, self.lock:
            return self.index.forget_cards(also_referenced)

    def _apply(self, batch: list[Record]) -> None:  # the follower's thread
        # a record the codec refuses raises before anything is applied: the follower then
        # passes over that record alone (``truyvet.kafka.follower``)
        updates = visits_codec.decode_records([r.key for r in batch], [r.value for r in batch])
        for i in range(0, len(updates), APPLY_CHUNK):
            chunk = updates[i:i + APPLY_CHUNK]
            with self.writer:
                changes = self.index.prepare(chunk)
                with self.lock:
                    self.index.commit(changes)
            if self.on_change is not None:
                self.on_change({(u.venue, u.day) for u in chunk})


class FirstLoad:
    """The first catch-up from the beginning of the topic, in bulk: records go to the
    compiled loader (read there, or by ``visits_codec.decode_record`` when not in the simple
    form), and the index is made from its columns once the follower has caught up."""

    def __init__(self, view: IndexView) -> None:
        assert core is not None
        self.view = view
        self.loader = core.IndexLoader(visits_codec.decode_record)
        self.feed_messages = self.loader.feed_messages
        self.feed_records = self.loader.feed_records

    def caught_up(self) -> None:
        started = time.monotonic()
        index = index_columns.build(index_columns.from_buffers(*self.loader.finish()))
        self.view.replace_index(index)
        log.info("index made from the first catch-up: %d visits in %.2fs", index.visits(),
                 time.monotonic() - started)


@contextmanager
def _timed(lock: threading.Lock, holds: list[float]) -> Iterator[None]:
    with lock:
        t = time.monotonic()
        try:
            yield
        finally:
            holds.append(time.monotonic() - t)
