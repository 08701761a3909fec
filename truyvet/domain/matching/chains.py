"""Chains of transmission from the visit index (pure numpy): F1, then F2 and further rings.

Ring 1 (F1) is a case's close contacts: every other card whose visits at a declared stop's
venue overlap the stop by at least ``close_contact_s`` (in total, the stop's overlaps merged,
as :mod:`~truyvet.domain.matching.overlap` answers a stop). A card is *exposed* at the start of
its first overlap with whoever exposed it.

Ring k+1 are the close contacts of ring k's cards during their own visits *after* their
exposure (visits that began later), within what the index holds (the retention): for each such
visit at venue V over [s, e], every card whose merged visits at V overlap [s, e] by at least
``close_contact_s``. Each card appears once, in the first ring that reaches it (the case's own
card and earlier rings' cards are never listed again), linked to the card and visit that
exposed it earliest. The expansion stops at ``rings`` rings or when a ring is empty; a ring of
more than ``max_expanded`` cards is counted but not expanded further (``truncated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from truyvet.codec.itinerary import Itinerary
from truyvet.domain.matching.index import DEAD, VisitIndex
from truyvet.domain.matching.overlap import union_overlaps

MAX_RINGS = 4
MAX_EXPANDED = 5_000  # cards of one ring expanded at most (a busier ring is counted only)


@dataclass(frozen=True, order=True)
class Link:
    """How a card was reached: by whom (``None``: the case itself), where, from when, how long."""

    exposed_at_s: int
    card: str
    via: str | None
    venue_id: str
    overlap_s: int


@dataclass
class Chain:
    rings: list[list[Link]] = field(default_factory=list)  # ring 1 (F1) first; each by time
    truncated: bool = False


def chain(index: VisitIndex, it: Itinerary, close_s: int, rings: int,
          max_expanded: int = MAX_EXPANDED) -> Chain:
    """The case's rings of close contacts, ``rings`` of them at most (1: its F1 alone)."""
    if not 1 <= rings <= MAX_RINGS:
        raise ValueError(f"rings is 1 to {MAX_RINGS}")
    own = index.number(it.card_id) if it.card_id is not None else None
    seen: set[int] = {own} if own is not None else set()
    found: dict[int, Link] = {}
    for stop in it.stops:
        for number, link in _close_during(index, stop.venue_id, stop.from_ms // 1000,
                                          stop.to_ms // 1000, own, None, close_s):
            _keep(found, number, link)
    out = Chain()
    while found and len(out.rings) < rings:
        seen |= found.keys()
        out.rings.append(sorted(found.values()))
        if len(out.rings) == rings:
            break
        if len(found) > max_expanded:
            out.truncated = True
            break
        nxt: dict[int, Link] = {}
        for card, venue, s, e in _visits_after(index, {n: lk.exposed_at_s for n, lk in
                                                       found.items()}):
            via = index.card_names[card]
            for number, link in _close_during(index, venue, s, e, card, via, close_s):
                if number not in seen:
                    _keep(nxt, number, link)
        found = nxt
    return out


def _keep(found: dict[int, Link], number: int, link: Link) -> None:
    held = found.get(number)
    if held is None or link < held:
        found[number] = link


def _close_during(index: VisitIndex, venue: str, s: int, e: int, me: int | None,
                  via: str | None, close_s: int) -> list[tuple[int, Link]]:
    """The cards other than ``me`` whose merged visits at ``venue`` overlap [s, e] by
    ``close_s`` or more: (number, link), exposed at the start of their first overlap."""
    w = index.window(venue, s, e)
    lo, hi = np.maximum(w.starts, s), np.minimum(w.ends, e)
    keep = (hi > lo) & (w.cards != DEAD)
    if me is not None:
        keep &= w.cards != me
    cards, lo, hi = w.cards[keep], lo[keep], hi[keep]
    if not len(cards):
        return []
    numbers, totals = union_overlaps(cards, lo, hi)  # by card number, ascending
    order = np.argsort(cards, kind="stable")
    starts = np.flatnonzero(np.concatenate(([True], cards[order][1:] != cards[order][:-1])))
    firsts = np.minimum.reduceat(lo[order], starts)  # the same cards, the same order
    names = index.card_names
    return [(int(n), Link(int(f), names[int(n)], via, venue, int(t)))
            for n, t, f in zip(numbers.tolist(), totals.tolist(), firsts.tolist(), strict=True)
            if t >= close_s]


def _visits_after(index: VisitIndex, exposed: dict[int, int]) -> list[tuple[int, str, int, int]]:
    """Every visit (card, venue, start, end) of the cards of ``exposed`` that began after
    the card's exposure, by start."""
    if not exposed:
        return []
    numbers = np.fromiter(exposed, np.int64)
    after = np.full(int(numbers.max()) + 1, np.iinfo(np.int64).max, np.int64)
    after[numbers] = np.fromiter(exposed.values(), np.int64)
    first_day = min(exposed.values()) // 86_400 - 1
    out = []
    for (venue, day), b in index.buckets.items():
        if day < first_day:
            continue
        n = b.size
        cards = b.cards[:n].astype(np.int64)
        hit = (cards < len(after))
        hit[hit] = b.starts[:n][hit].astype(np.int64) > after[cards[hit]]
        for i in np.flatnonzero(hit).tolist():
            out.append((int(cards[i]), venue, int(b.starts[i]), int(b.ends[i])))
    out.sort(key=lambda v: (v[2], v[0], v[1]))
    return out
