"""A :class:`~truyvet.domain.matching.index.VisitIndex` as a few flat arrays, and back: what a
checkpoint stores (``truyvet.api.tracing.checkpoint``).

:func:`take` copies the live rows of every bucket (the caller holds the index's lock: the
copy is all it waits for); :func:`compacted` then numbers the cards anew, keeping only those
a live row references (a card whose visits all left the retention is not written anywhere),
and :func:`build` makes an index equal to the one taken: the same visits under the same
(venue, day) buckets, the same card ids, the same longest visit per venue. The card *numbers*
may differ; nothing outside the index keeps them across a restart.
"""

from __future__ import annotations

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


def take(index: VisitIndex) -> IndexColumns:
    """The index's content, copied (run under the index's lock)."""
    venues = sorted(set(index.days_of) | set(index.longest))
    number = {v: i for i, v in enumerate(venues)}
    keys, parts = [], []
    for key in sorted(index.buckets):
        rows = index.buckets[key].live()
        if len(rows[0]):
            keys.append(key)
            parts.append(rows)
    sizes = np.fromiter((len(p[0]) for p in parts), np.int64, len(parts))
    return IndexColumns(
        venues=venues,
        longest=np.fromiter((index.longest.get(v, 0) for v in venues), np.int64, len(venues)),
        bucket_venue=np.fromiter((number[v] for v, _ in keys), np.int32, len(keys)),
        bucket_day=np.fromiter((d for _, d in keys), np.int32, len(keys)),
        bucket_end=np.cumsum(sizes),
        cards=_joined([p[0] for p in parts]),
        starts=_joined([p[1] for p in parts]),
        ends=_joined([p[2] for p in parts]),
        card_names=list(index.card_names),
    )


def compacted(c: IndexColumns) -> IndexColumns:
    """The same content with the cards a row references numbered 0.. (the others dropped)."""
    used, renumbered = np.unique(c.cards, return_inverse=True)
    names = c.card_names
    return IndexColumns(c.venues, c.longest, c.bucket_venue, c.bucket_day, c.bucket_end,
                        renumbered.astype(np.uint32).reshape(-1), c.starts, c.ends,
                        [names[int(n)] for n in used])


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
