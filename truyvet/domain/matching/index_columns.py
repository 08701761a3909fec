"""A :class:`~truyvet.domain.matching.index.VisitIndex` as a few flat arrays, and back: what a
checkpoint stores (``truyvet.api.tracing.checkpoint``).

:func:`take` copies the rows of every bucket, a few buckets per hold of the index's lock;
:func:`compacted` then drops the deleted rows and numbers the cards anew, keeping only those
a row references (a card whose visits all left the retention is not written anywhere),
and :func:`build` makes an index equal to the one taken: the same visits under the same
(venue, day) buckets, the same card ids, the same longest visit per venue. The card *numbers*
may differ; nothing outside the index keeps them across a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np

from truyvet.domain.matching.cards import CardTable
from truyvet.domain.matching.index import DEAD, Bucket, VisitIndex


@dataclass(frozen=True)
class IndexColumns:
    venues: list[str]
    longest: np.ndarray  # int64 per venue: its longest visit ever indexed (seconds)
    bucket_venue: np.ndarray  # int32 per bucket: a number in ``venues``
    bucket_day: np.ndarray  # int32 per bucket
    bucket_end: np.ndarray  # int64 per bucket: where its rows end in the row columns
    cards: np.ndarray  # uint32 per row: a number in ``card_names``
    starts: np.ndarray  # uint32 per row
    ends: np.ndarray  # uint32 per row
    card_names: list[str]  # by number ("" for a number no card holds)

    @property
    def visits(self) -> int:
        return len(self.cards)


def take(index: VisitIndex, hold: Callable[[], AbstractContextManager[object]] = nullcontext,
         ) -> IndexColumns:
    """The index's content, copied a few buckets at a time (``_GROUP`` rows or so), each time
    inside ``hold()`` (the index's lock: an answer waits for one group of plain copies at most;
    deleted rows are dropped after, by :func:`compacted`).

    Taken while updates go on, the copy mixes buckets of different moments, all at or after
    the moment ``take`` began: what a checkpoint needs, since the records after the offsets
    read *before* it began are applied again on restart and each replaces its bucket whole.
    Card numbers are another matter: one forgotten and given to a new card meanwhile would
    name the wrong card in a row copied before, so then the copy is taken again in one hold."""
    columns = _take(index, hold, _GROUP)
    if columns is None:  # cards were forgotten meanwhile
        with hold():
            columns = _take(index, nullcontext, 1 << 62)
    assert columns is not None
    return columns


def _take(index: VisitIndex, hold: Callable[[], AbstractContextManager[object]], group: int,
          ) -> IndexColumns | None:
    with hold():  # plain copies only: sorted after
        forgets = index.cards.forgets
        keys, days_of, longest_of = list(index.buckets), list(index.days_of), dict(index.longest)
    keys.sort()
    venues = sorted(set(days_of) | set(longest_of))
    longest = np.fromiter((longest_of.get(v, 0) for v in venues), np.int64, len(venues))
    copied: list[tuple[tuple[str, int], np.ndarray, np.ndarray, np.ndarray]] = []
    i = 0
    while i < len(keys):
        with hold():
            rows = 0
            while i < len(keys) and rows < group:
                b = index.buckets.get(keys[i])
                if b is not None and b.size > b.dead:
                    n = b.size
                    copied.append((keys[i], b.cards[:n].copy(), b.starts[:n].copy(),
                                   b.ends[:n].copy()))
                    rows += n
                i += 1
    with hold():  # with the cards interned meanwhile
        names = list(index.card_names)
        if index.cards.forgets != forgets:
            return None
    number = {v: i for i, v in enumerate(venues)}
    sizes = np.fromiter((len(c[1]) for c in copied), np.int64, len(copied))
    return IndexColumns(
        venues=venues, longest=longest,
        bucket_venue=np.fromiter((number[k[0]] for k, *_ in copied), np.int32, len(copied)),
        bucket_day=np.fromiter((k[1] for k, *_ in copied), np.int32, len(copied)),
        bucket_end=np.cumsum(sizes),
        cards=_joined([c[1] for c in copied]),
        starts=_joined([c[2] for c in copied]),
        ends=_joined([c[3] for c in copied]),
        card_names=names,
    )


# rows copied per hold of the lock (~1 ms): a hold of 256 whole buckets, busy ones 10,000 rows
# each, made an answer wait 20-28 ms (`bench restart`)
_GROUP = 1 << 16


def compacted(c: IndexColumns) -> IndexColumns:
    """The same content without deleted rows, and with the cards a row references numbered
    0.. in their old order (the others dropped)."""
    live = c.cards != DEAD
    if not live.all():
        kept = np.cumsum(live)
        bucket_end = kept[c.bucket_end - 1] if len(c.bucket_end) else c.bucket_end
        nonempty = np.diff(bucket_end, prepend=0) > 0
        c = IndexColumns(c.venues, c.longest, c.bucket_venue[nonempty], c.bucket_day[nonempty],
                         bucket_end[nonempty].astype(np.int64), c.cards[live], c.starts[live],
                         c.ends[live], c.card_names)
    used = np.flatnonzero(np.bincount(c.cards, minlength=len(c.card_names)))
    renumber = np.zeros(len(c.card_names), np.uint32)
    renumber[used] = np.arange(len(used), dtype=np.uint32)
    names = c.card_names
    return IndexColumns(c.venues, c.longest, c.bucket_venue, c.bucket_day, c.bucket_end,
                        renumber[c.cards], c.starts, c.ends, [names[n] for n in used.tolist()])


def from_buffers(venues: list[str], longest: bytes, bucket_venue: bytes, bucket_day: bytes,
                 bucket_end: bytes, cards: bytes, starts: bytes, ends: bytes,
                 card_names: list[str]) -> IndexColumns:
    """Columns given as little-endian bytes (what ``truyvet_native.IndexLoader.finish``
    returns), in the order of :class:`IndexColumns`' fields."""
    return IndexColumns(
        venues, np.frombuffer(longest, "<i8"), np.frombuffer(bucket_venue, "<i4"),
        np.frombuffer(bucket_day, "<i4"), np.frombuffer(bucket_end, "<i8"),
        np.frombuffer(cards, "<u4"), np.frombuffer(starts, "<u4"), np.frombuffer(ends, "<u4"),
        card_names)


def build(c: IndexColumns) -> VisitIndex:
    """The index these columns describe; ValueError when they do not describe one (a bug or a
    file from elsewhere: the caller rebuilds from the topic instead)."""
    _check(c)
    index = VisitIndex()
    index.cards = CardTable.of(c.card_names)
    index.longest = {v: int(n) for v, n in zip(c.venues, c.longest.tolist(), strict=True) if n}
    start = 0
    for v, day, end in zip(c.bucket_venue.tolist(), c.bucket_day.tolist(),
                           c.bucket_end.tolist(), strict=True):
        venue = c.venues[v]
        index.buckets[(venue, day)] = Bucket.holding(c.cards[start:end], c.starts[start:end],
                                                     c.ends[start:end])
        index.days_of.setdefault(venue, set()).add(day)
        start = end
    return index


def _check(c: IndexColumns) -> None:
    rows, buckets = len(c.cards), len(c.bucket_day)
    if not len(c.starts) == len(c.ends) == rows:
        raise ValueError("row columns of different lengths")
    if not len(c.bucket_venue) == len(c.bucket_end) == buckets or len(c.longest) != len(c.venues):
        raise ValueError("bucket or venue columns of different lengths")
    if buckets and (c.bucket_end[-1] != rows or np.any(np.diff(c.bucket_end) <= 0)
                    or c.bucket_end[0] <= 0):
        raise ValueError("bucket ends not increasing up to the row count (an empty bucket?)")
    if not buckets and rows:
        raise ValueError("rows without buckets")
    if buckets and (c.bucket_venue.min() < 0 or c.bucket_venue.max() >= len(c.venues)):
        raise ValueError("a bucket names no venue")
    if rows and (int(c.cards.max()) >= len(c.card_names) or np.any(c.cards == DEAD)):
        raise ValueError("a row names no card")
    if rows and np.any(c.starts > c.ends):
        raise ValueError("a visit ends before it starts")
    keys = np.stack([c.bucket_venue.astype(np.int64), c.bucket_day.astype(np.int64)], axis=1)
    if buckets and len(np.unique(keys, axis=0)) != buckets:
        raise ValueError("a (venue, day) bucket listed twice")


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, np.uint32)
