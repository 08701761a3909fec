"""Synthetic visits at province scale, for the index, rebuild, latency and PostgreSQL benches.

Deterministic (numpy, seeded). By default 5 million visits over 10 days: 40 busy venues with
10,000 visits a day each and 960 ordinary venues with ~100, by 300,000 cards; arrivals
between 07:00 and 22:00 (UTC+07:00), stays of 10 minutes to 2 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
import time
from dataclasses import dataclass, field

import numpy as np

from truyvet.domain import localtime
from truyvet.domain.matching.rules import DAY_S

VN = localtime.OFFSET_S


@dataclass(frozen=True)
class Shape:
    days: int = 10
    busy_venues: int = 40
    busy_per_day: int = 10_000
    venues: int = 1000
    ordinary_per_day: int = 100
    cards: int = 300_000
    first_day: int = field(default_factory=lambda: int(time.time()) // DAY_S - 10)  # recent:
    # older visits would be deleted by the topics' 21-day retention while the bench runs

    @property
    def total(self) -> int:
        return self.days * (self.busy_venues * self.busy_per_day
                            + (self.venues - self.busy_venues) * self.ordinary_per_day)


def venue_id(i: int) -> str:
    return f"V{i:04d}"


def card_id(i: int) -> str:
    return f"C{i:07d}"


def visit_arrays(shape: Shape, seed: int = 1) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
    """Per (venue, day): (venue, day, cards, starts, ends), arrays of equal length."""
    rng = np.random.default_rng(seed)
    for day in range(shape.first_day, shape.first_day + shape.days):
        open_s = day * DAY_S + 7 * 3600 - VN  # 07:00 local is 00:00 UTC: one UTC day
        for v in range(shape.venues):
            n = shape.busy_per_day if v < shape.busy_venues else shape.ordinary_per_day
            starts = open_s + rng.integers(0, 15 * 3600, n)
            ends = starts + rng.integers(600, 7200, n)
            cards = rng.integers(0, shape.cards, n)
            yield v, day, cards, starts, ends


def bucket_updates(shape: Shape, seed: int = 1) -> Iterator[tuple[str, int, str, list[tuple[int, int]]]]:
    """(venue, day, card, visits) as the visits job emits them (one card's visits together).

    Buckets are keyed by the visit's own start day; all starts here fall on ``day``."""
    for v, day, cards, starts, ends in visit_arrays(shape, seed):
        order = np.argsort(cards, kind="stable")
        cards, starts, ends = cards[order], starts[order], ends[order]
        cuts = np.flatnonzero(np.diff(cards)) + 1
        venue = venue_id(v)
        for c, s, e in zip(np.split(cards, cuts), np.split(starts, cuts), np.split(ends, cuts),
                           strict=True):
            yield venue, int(s[0] // DAY_S), card_id(int(c[0])), sorted(zip(s.tolist(), e.tolist()))


def itineraries(shape: Shape, n: int, stops: int = 10, seed: int = 2,
                classification: str = "F0") -> list[dict]:
    """``n`` itineraries of ``stops`` stops each, 7 in 10 at busy venues, 1 to 3 hours long.
    F0 (the default) by default: a thousand F0 cases at forty venues in a few days also make
    the API keep a hundred clusters of dozens of cases each; F1 itineraries form none."""
    from truyvet.codec.timefmt import format_ms

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        ss = []
        for _ in range(stops):
            busy = rng.random() < 0.7
            v = int(rng.integers(0, shape.busy_venues if busy else shape.venues))
            day = shape.first_day + int(rng.integers(0, shape.days))
            frm = day * DAY_S + 7 * 3600 - VN + int(rng.integers(0, 14 * 3600))
            to = frm + int(rng.integers(3600, 3 * 3600))
            ss.append({"venue_id": venue_id(v), "from": format_ms(frm * 1000),
                       "to": format_ms(to * 1000)})
        out.append({"case_id": f"bench-{k}", "classification": classification,
                    "card_id": card_id(int(rng.integers(0, shape.cards))), "stops": ss})
    return out
