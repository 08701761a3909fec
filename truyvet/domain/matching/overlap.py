"""Answering one itinerary stop from the index: verified, gap, contacts (numpy).

For stop (V, from, to) of card C:
- contacts: every other card whose visits at V, merged (union), intersect [from, to] with
  positive length; ``overlap_s`` = length of that intersection; close when >= close_contact_s;
  sorted by overlap_s descending, then card_id;
- verified: C has a visit at V meeting [from - tol, to + tol] (closed: touching counts);
  otherwise a gap. Without a card, ``verified`` is None and there is no gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from truyvet.codec import native
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.rules import MatchRules


@dataclass(frozen=True)
class StopAnswer:
    verified: bool | None
    gap: bool
    contact_cards: np.ndarray  # card numbers (VisitIndex.card_names), in answer order
    contact_overlaps: np.ndarray  # seconds, same order


def answer_stops(index: VisitIndex, rules: MatchRules, stops: Sequence[tuple[str, int, int]],
                 card: str | None, threads: int = 1) -> list[StopAnswer]:
    """The answer of each stop ``(venue, from, to)``, in order. From the compiled core when
    it is built: the stops shared among ``threads`` threads that run without the interpreter
    lock, so the caller must hold what keeps the index from changing meanwhile
    (``IndexView.answer``: its lock). Else from :func:`answer_stop_reference`.

    More than one thread pays only where a core is free for each at once: the caller waits
    for every thread it starts, and one not scheduled at once (the cores busy with a broker's
    collector, say) makes it wait as long (``TRUYVET_MATCH_THREADS``, docs/benchmarks.md)."""
    if native.core is None:
        return [answer_stop_reference(index, rules, v, frm, to, card) for v, frm, to in stops]
    tol = rules.tolerance_s
    me = index.number(card) if card is not None else None
    keys, width = index.cards.sort_table()
    got = native.core.answer_stops(
        [([(b.cards, b.starts, b.ends, b.size) for b in index.buckets_meeting(v, frm - tol, to + tol)],
          frm - tol, to + tol, frm, to) for v, frm, to in stops], me, keys, width, threads)
    out = []
    for met, cards, overlaps in got:
        verified = None if card is None else met
        out.append(StopAnswer(verified, verified is False, np.frombuffer(cards, np.uint32),
                              np.frombuffer(overlaps, np.int64)))
    return out


def answer_stop_reference(
    index: VisitIndex, rules: MatchRules, venue: str, frm: int, to: int, card: str | None
) -> StopAnswer:
    """One stop's answer in numpy: the reference the compiled core is held to."""
    tol = rules.tolerance_s
    w = index.window(venue, frm - tol, to + tol)
    me = index.number(card) if card is not None else None
    verified: bool | None = None
    if card is not None:
        verified = me is not None and bool(np.any(w.cards == me))  # the window is the ±tol test
    others = w.cards != me if me is not None else np.ones(len(w.cards), bool)
    lo = np.maximum(w.starts, frm)
    hi = np.minimum(w.ends, to)
    keep = others & (hi > lo)
    cards, overlaps = union_overlaps(w.cards[keep], lo[keep], hi[keep])
    order = _contact_order(index, cards, overlaps)
    return StopAnswer(verified, verified is False, cards[order], overlaps[order])


def _contact_order(index: VisitIndex, cards: np.ndarray, overlaps: np.ndarray) -> np.ndarray:
    """Indices sorting contacts by overlap descending, then card_id."""
    order = np.argsort(-overlaps, kind="stable")
    ranked = overlaps[order]
    same = ranked[1:] == ranked[:-1]
    if not same.any():
        return order
    # only runs of equal overlap need the (slower) text order of card ids
    tied = np.flatnonzero(np.concatenate(([False], same)) | np.concatenate((same, [False])))
    sub = order[tied]
    order[tied] = sub[np.lexsort((index.cards.sort_keys(cards[sub]), -overlaps[sub]))]
    return order


def union_overlaps(cards: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per card, the length of the union of its intervals [lo, hi) (all inside the stop)."""
    if len(cards) == 0:
        return np.empty(0, np.uint32), np.empty(0, np.int64)
    base = lo.min()
    # one int64 sort key (card, start): cheaper than a lexsort over two columns
    order = np.argsort((cards.astype(np.int64) << 32) | (lo - base), kind="stable")
    c, a, b = cards[order].astype(np.int64), lo[order], hi[order]
    # Shift each card's intervals into a range of its own, so one running maximum over the
    # whole array never carries an end from one card into the next.
    span = int(b.max() - a.min()) + 1
    rank = np.concatenate(([0], np.cumsum(c[1:] != c[:-1])))
    a2 = (a - base) + rank * span
    b2 = (b - base) + rank * span
    reach = np.maximum.accumulate(b2)
    prev_reach = np.concatenate(([np.int64(-1)], reach[:-1]))
    gain = np.clip(b2 - np.maximum(a2, prev_reach), 0, None)
    first = np.concatenate(([True], c[1:] != c[:-1]))
    starts = np.flatnonzero(first)
    totals = np.add.reduceat(gain, starts)
    positive = totals > 0
    return c[starts][positive], totals[positive]
