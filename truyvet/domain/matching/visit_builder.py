"""Incremental visit building for the cards of one partition (pure): the visits job's state.

State: each card's scans within the retention, sorted by (time, event_id), deduplicated by
event_id. Output: for every (venue, day, card) bucket whose visits may have changed, the
card's complete list of visits in it (:class:`BucketUpdate`); an empty list deletes the
bucket. Replacements are idempotent, so re-processing a scan after a crash (at-least-once)
re-emits the same, correct buckets, and a compacted topic of them rebuilds the index.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from truyvet.codec.native import core as compiled
from truyvet.codec.visits import Bucket
from truyvet.domain.matching.rules import DAY_S, ConstantDwell
from truyvet.domain.matching.visits import Dwell, Scan, Visit, last_visit, pair_visits, walk


BucketUpdate = Bucket  # the new content of a (venue, day, card) bucket; no visits: deleted


@dataclass(slots=True)
class CardHistory:
    scans: list[Scan] = field(default_factory=list)
    by_id: dict[str, Scan] = field(default_factory=dict)


Touched = set[tuple[str, int]]


class VisitBuilder:
    def __init__(self, dwell: Dwell, retention_s: int) -> None:
        self.dwell = dwell
        self.retention_s = retention_s
        self.cards: dict[str, CardHistory] = {}
        self.scans = 0  # scans held

    # --- state -------------------------------------------------------------------------
    def add(self, card: str, scan: Scan, now_s: int) -> Touched:
        """Record one scan; returns the (venue, day) buckets of the card it may change.

        A duplicate (same event_id) changes nothing but still returns its buckets, so that
        re-processing re-emits them. Of two different scans claiming one event_id the
        smaller (time, event_id, venue, direction) wins, whatever the arrival order.
        """
        if scan.t < now_s - self.retention_s:
            return set()
        h = self.cards.get(card)
        if h is None:
            h = self.cards[card] = CardHistory()
        known = h.by_id.get(scan.event_id)
        if known is not None:
            if known <= scan:
                return self._around(h, bisect_left(h.scans, known))
            touched = self._remove(h, known)
            return touched | self._insert(h, scan)
        return self._insert(h, scan)

    def _insert(self, h: CardHistory, scan: Scan) -> Touched:
        scans = h.scans
        i = bisect_left(scans, scan)
        prev = scans[i - 1] if i else None
        nxt = scans[i] if i < len(scans) else None
        before = self._pair(prev, nxt)
        scans.insert(i, scan)
        h.by_id[scan.event_id] = scan
        self.scans += 1
        after = pair_visits(prev, scan, self.dwell) + self._pair(scan, nxt)
        return {(v.venue, v.start // DAY_S) for v in before + after}

    def _remove(self, h: CardHistory, scan: Scan) -> Touched:
        scans = h.scans
        i = bisect_left(scans, scan)
        prev = scans[i - 1] if i else None
        nxt = scans[i + 1] if i + 1 < len(scans) else None
        before = pair_visits(prev, scan, self.dwell) + self._pair(scan, nxt)
        del scans[i]
        del h.by_id[scan.event_id]
        self.scans -= 1
        after = self._pair(prev, nxt)
        return {(v.venue, v.start // DAY_S) for v in before + after}

    def _pair(self, prev: Scan | None, nxt: Scan | None) -> list[Visit]:
        """Visits of pair (prev, nxt); nxt None means prev is the card's last scan."""
        if nxt is not None:
            return pair_visits(prev, nxt, self.dwell)
        return last_visit(prev, self.dwell) if prev is not None else []

    def _around(self, h: CardHistory, i: int) -> Touched:
        scans = h.scans
        vs = pair_visits(scans[i - 1] if i else None, scans[i], self.dwell)
        vs += self._pair(scans[i], scans[i + 1] if i + 1 < len(scans) else None)
        return {(v.venue, v.start // DAY_S) for v in vs}

    # --- output ----------------------------------------------------------------------------
    def bucket(self, card: str, venue: str, day: int) -> tuple[tuple[int, int], ...]:
        """The card's visits at ``venue`` starting on ``day``, sorted."""
        h = self.cards.get(card)
        if h is None:
            return ()
        d0, d1 = day * DAY_S, (day + 1) * DAY_S
        # a visit starting in [d0, d1) comes from a pair (s[j-1], s[j]) with s[j].t >= d0
        # and s[j-1].t < d1, or from the last scan
        lo = bisect_left(h.scans, (d0,))
        hi = min(len(h.scans), bisect_left(h.scans, (d1,)) + 1)
        return tuple(sorted(
            (v.start, v.end) for v in walk(h.scans, self.dwell, lo, hi)
            if v.venue == venue and d0 <= v.start < d1
        ))

    def add_all(self, scans: Iterable[tuple[str, Scan]], now_s: int) -> None:
        """Record (card, scan) pairs, nothing returned (a state's rebuild)."""
        add = self.add
        for card, scan in scans:
            add(card, scan, now_s)

    def apply(self, card: str, scans: Iterable[Scan], now_s: int) -> list[BucketUpdate]:
        """Add a card's scans and return the new content of every bucket they touch."""
        touched: Touched = set()
        for scan in scans:
            touched |= self.add(card, scan, now_s)
        return [BucketUpdate(venue, day, card, self.bucket(card, venue, day))
                for venue, day in sorted(touched)]

    def purge(self, now_s: int) -> int:
        """Forget scans older than the retention; returns how many were dropped."""
        cutoff = (now_s - self.retention_s,)
        dropped = 0
        for card in list(self.cards):
            h = self.cards[card]
            k = bisect_left(h.scans, cutoff)
            if k:
                for s in h.scans[:k]:
                    del h.by_id[s.event_id]
                del h.scans[:k]
                dropped += k
            if not h.scans:
                del self.cards[card]
        self.scans -= dropped
        return dropped


def new_builder(dwell: Dwell, retention_s: int) -> VisitBuilder:
    """The builder the visits job runs: the compiled one (``native/``, the same methods and
    answers, a quarter of the time a scan: docs/benchmarks.md) when it is installed, else this
    module's, which stays the reference the compiled one is tested against."""
    if compiled is None:
        return VisitBuilder(dwell, retention_s)
    constant = dwell.seconds if isinstance(dwell, ConstantDwell) else None
    return compiled.VisitBuilder(dwell, retention_s, Bucket, constant)  # type: ignore[no-any-return]

__all__ = ["BucketUpdate", "VisitBuilder", "new_builder"]
