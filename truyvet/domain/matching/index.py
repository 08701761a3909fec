"""A per-venue, day-bucketed index of visits, in columnar numpy arrays.

Each (venue, day) bucket holds rows ``(card, start, end)`` as three ``uint32`` columns
(12 bytes a visit; cards are interned to integers). A bucket is replaced one card at a time
(:meth:`VisitIndex.apply`), which is idempotent: the index equals the latest
``BucketUpdate`` of every (venue, day, card), whatever was applied before or twice.

An update is made in two steps: :meth:`VisitIndex.prepare` finds the rows it replaces and
makes the rows it adds, changing nothing, and :meth:`VisitIndex.commit` writes them, a few
plain array stores a bucket (and interns the cards that are new). Readers (matching,
a checkpoint's copy) may read while an update is prepared; none may while one is committed,
and one writer at a time prepares and commits (see ``api.tracing.index_view``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from truyvet.domain.matching.cards import CardTable
from truyvet.domain.matching.rules import DAY_S

DEAD = np.uint32(0xFFFFFFFF)  # card number of a deleted row
_MIN_CAPACITY = 8


class Bucket:
    __slots__ = ("cards", "starts", "ends", "size", "dead")

    def __init__(self) -> None:
        self.cards = np.empty(_MIN_CAPACITY, np.uint32)
        self.starts = np.empty(_MIN_CAPACITY, np.uint32)
        self.ends = np.empty(_MIN_CAPACITY, np.uint32)
        self.size = 0
        self.dead = 0

    @classmethod
    def holding(cls, cards: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Bucket:
        """A bucket of these rows (copied), none deleted."""
        b = cls.__new__(cls)
        b.cards = np.array(cards, np.uint32)
        b.starts = np.array(starts, np.uint32)
        b.ends = np.array(ends, np.uint32)
        b.size, b.dead = len(b.cards), 0
        return b

    def rows_of(self, cards: Sequence[int]) -> np.ndarray | None:
        """Which of the bucket's rows are of ``cards`` (a mask over its ``size`` rows; None:
        none). Reads only: the bucket is the same after."""
        n = self.size
        if not n or not cards:
            return None
        live = self.cards[:n]
        hit = np.isin(live, np.asarray(cards, np.uint32)) if len(cards) > 1 else live == cards[0]
        return hit if hit.any() else None

    def commit(self, deleted: np.ndarray | None, block: np.ndarray | None) -> None:
        """Delete the rows ``deleted`` marks (from :meth:`rows_of`, the bucket unchanged
        since), then append ``block``'s rows (card, start, end)."""
        if deleted is not None:
            assert len(deleted) == self.size, "the bucket changed since its rows were found"
            self.cards[: self.size][deleted] = DEAD
            self.dead += int(np.count_nonzero(deleted))
        if block is not None:
            self._append(block)
        if self.dead and self.dead * 4 > self.size:
            self._compact()

    def forget_ended_before(self, t: int) -> int:
        """Delete the rows whose visit ended before ``t``; returns how many."""
        n = self.size
        hit = (self.cards[:n] != DEAD) & (self.ends[:n] < t)
        k = int(np.count_nonzero(hit))
        if k:
            self.cards[:n][hit] = DEAD
            self.dead += k
            if self.dead * 4 > self.size and self.dead < self.size:
                self._compact()
        return k

    def _append(self, block: np.ndarray) -> None:
        m = len(block)
        need = self.size + m
        if need > len(self.cards):
            cap = max(need, len(self.cards) * 3 // 2, _MIN_CAPACITY)
            for name in ("cards", "starts", "ends"):
                old = getattr(self, name)
                new = np.empty(cap, np.uint32)
                new[: self.size] = old[: self.size]
                setattr(self, name, new)
        s = self.size
        self.cards[s:need] = block[:, 0]
        self.starts[s:need] = block[:, 1]
        self.ends[s:need] = block[:, 2]
        self.size = need

    def _compact(self) -> None:
        keep = self.cards[: self.size] != DEAD
        n = int(np.count_nonzero(keep))
        cap = max(_MIN_CAPACITY, n + n // 4)
        for name in ("cards", "starts", "ends"):
            col = getattr(self, name)[: self.size][keep]
            new = np.empty(cap, np.uint32)
            new[:n] = col
            setattr(self, name, new)
        self.size, self.dead = n, 0

    def nbytes(self) -> int:
        return self.cards.nbytes + self.starts.nbytes + self.ends.nbytes


def _block(rows: Sequence[tuple[int, int, int]]) -> np.ndarray | None:
    return np.asarray(rows, np.uint32).reshape(len(rows), 3) if rows else None


@dataclass(frozen=True, slots=True)
class BucketChange:
    """One bucket's replacement, prepared (:meth:`VisitIndex.prepare`)."""

    key: tuple[str, int]  # (venue, day)
    bucket: Bucket | None  # the bucket as it was found (None: none yet)
    deleted: np.ndarray | None  # its rows replaced (a mask; None: none)
    block: np.ndarray | None  # the rows added, (card, start, end) each (None: none)
    longest: int  # the longest visit added (seconds)
    # every visit added, by card, when one of the cards is new: the rows are made once that
    # card is interned, by ``commit`` (``block`` is None then)
    by_card: dict[str, Sequence[tuple[int, int]]] | None = None


@dataclass(frozen=True)
class Window:
    """Visits at one venue that may touch a time range: parallel arrays."""

    cards: np.ndarray  # uint32 card numbers
    starts: np.ndarray  # int64 seconds
    ends: np.ndarray


class VisitIndex:
    def __init__(self) -> None:
        self.buckets: dict[tuple[str, int], Bucket] = {}
        self.days_of: dict[str, set[int]] = {}
        self.longest: dict[str, int] = {}  # venue -> longest visit ever indexed (seconds)
        self.cards = CardTable()
        # counts the changes to its visits and to its cards' numbers: an answer made at one
        # count is the answer while the count is the same
        self.changes = 0

    # --- cards ---------------------------------------------------------------------------
    @property
    def card_names(self) -> list[str]:
        return self.cards.names

    def intern(self, card: str) -> int:
        return self.cards.intern(card)

    def number(self, card: str) -> int | None:
        return self.cards.number.get(card)

    # --- updates ---------------------------------------------------------------------------
    def apply(self, updates: Iterable[tuple[str, int, str, Sequence[tuple[int, int]]]]) -> int:
        """Apply bucket replacements ``(venue, day, card, [(start, end), ...])``; the last one
        for a (venue, day, card) wins. Returns the number of buckets changed."""
        return self.commit(self.prepare(updates))

    def prepare(self, updates: Iterable[tuple[str, int, str, Sequence[tuple[int, int]]]],
                ) -> list[BucketChange]:
        """:meth:`apply`'s work but the writing: each bucket's rows replaced found, its rows
        added made. Changes nothing: no bucket, no card (the rows of a card not interned
        yet are made by :meth:`commit`, which interns it)."""
        grouped: dict[tuple[str, int], dict[str, Sequence[tuple[int, int]]]] = {}
        for venue, day, card, visits in updates:
            grouped.setdefault((venue, day), {})[card] = visits
        number = self.cards.number
        changes = []
        for key, by_card in grouped.items():
            bucket = self.buckets.get(key)
            numbers = [number.get(card) for card in by_card]
            known = [n for n in numbers if n is not None]
            deleted = None if bucket is None else bucket.rows_of(known)
            longest = max((e - s for visits in by_card.values() for s, e in visits), default=0)
            if len(known) < len(numbers):  # a new card: its rows made once it has a number
                changes.append(BucketChange(key, bucket, deleted, None, longest, by_card))
                continue
            rows = [(c, s, e) for c, visits in zip(known, by_card.values(), strict=True)
                    for s, e in visits]
            changes.append(BucketChange(key, bucket, deleted, _block(rows), longest))
        return changes

    def commit(self, changes: list[BucketChange]) -> int:
        """Write changes :meth:`prepare` made, the index unchanged since; returns the number
        of buckets changed."""
        for ch in changes:
            venue, day = ch.key
            bucket = self.buckets.get(ch.key)
            assert bucket is ch.bucket, "the index changed since the update was prepared"
            if bucket is None:
                bucket = self.buckets[ch.key] = Bucket()
                self.days_of.setdefault(venue, set()).add(day)
            block = ch.block if ch.by_card is None else _block(
                [(self.intern(card), s, e) for card, visits in ch.by_card.items()
                 for s, e in visits])
            bucket.commit(ch.deleted, block)
            if ch.longest > self.longest.get(venue, 0):
                self.longest[venue] = ch.longest
            if bucket.size == bucket.dead:
                del self.buckets[ch.key]
                self.days_of[venue].discard(day)
        self.changes += 1
        return len(changes)

    def expire(self, cutoff_s: int) -> int:
        """Forget every visit that ended before ``cutoff_s`` (the retention); returns how many.

        Buckets of the cutoff's day and before, row by row: a visit is filed under the day it
        began, and one that began before midnight may end after a cutoff of the next day (whole
        earlier days dropped at once lost such visits before their time: found by hypothesis)."""
        cutoff_day = cutoff_s // DAY_S
        dropped = 0
        for key in [k for k in self.buckets if k[1] <= cutoff_day]:
            bucket = self.buckets[key]
            dropped += bucket.forget_ended_before(cutoff_s)
            if bucket.size == bucket.dead:
                del self.buckets[key]
                self.days_of[key[0]].discard(key[1])
        self.changes += 1
        return dropped

    def forget_cards(self, also_referenced: Iterable[np.ndarray] = ()) -> int:
        """Forget the cards no live visit references, nor ``also_referenced`` (the contacts
        of standing results): their ids leave memory, their numbers are reused. Returns how
        many were forgotten."""
        self.changes += 1
        parts = [b.cards[: b.size] for b in self.buckets.values()]
        parts += [np.asarray(a, np.uint32) for a in also_referenced]
        if not parts:
            return self.cards.forget(np.empty(0, np.int64))
        referenced = np.unique(np.concatenate(parts))
        referenced = referenced[referenced != DEAD].astype(np.int64)
        return self.cards.forget(referenced)

    # --- reads -------------------------------------------------------------------------------
    def buckets_meeting(self, venue: str, lo: int, hi: int) -> list[Bucket]:
        """The buckets of ``venue`` that may hold a visit meeting [lo, hi], in day order: a
        visit is filed under the day it began, so the days from ``lo`` less the venue's
        longest visit to ``hi``."""
        days = self.days_of.get(venue)
        if not days:
            return []
        first = (lo - self.longest.get(venue, 0)) // DAY_S
        last = hi // DAY_S
        return [self.buckets[(venue, day)] for day in sorted(d for d in days if first <= d <= last)]

    def window(self, venue: str, lo: int, hi: int) -> Window:
        """All visits at ``venue`` with ``start <= hi`` and ``end >= lo`` (closed)."""
        parts = []
        for b in self.buckets_meeting(venue, lo, hi):
            n = b.size
            cards, starts, ends = b.cards[:n], b.starts[:n], b.ends[:n]
            keep = (cards != DEAD) & (starts <= hi) & (ends >= lo)
            if keep.any():
                parts.append((cards[keep], starts[keep], ends[keep]))
        if not parts:
            empty = np.empty(0, np.int64)
            return Window(np.empty(0, np.uint32), empty, empty)
        return Window(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]).astype(np.int64),
            np.concatenate([p[2] for p in parts]).astype(np.int64),
        )

    # --- figures -------------------------------------------------------------------------------
    def visits(self) -> int:
        return sum(b.size - b.dead for b in self.buckets.values())

    def nbytes(self) -> int:
        """Bytes of the visit columns (allocated, including spare capacity)."""
        return sum(b.nbytes() for b in self.buckets.values())
