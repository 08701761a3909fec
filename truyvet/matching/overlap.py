"""Answering one itinerary stop from the index: verified, gap, contacts (numpy).

For stop (V, from, to) of card C:
- contacts: every other card whose visits at V, merged (union), intersect [from, to] with
  positive length; ``overlap_s`` = length of that intersection; close when >= close_contact_s;
  sorted by overlap_s descending, then card_id;
- verified: C has a visit at V meeting [from - tol, to + tol] (closed: touching counts);
  otherwise a gap. Without a card, ``verified`` is None and there is no gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truyvet.matching.index import VisitIndex
from truyvet.matching.rules import MatchRules


@dataclass(frozen=True)
class Contact:
    card_id: str
    overlap_s: int
    close_contact: bool


@dataclass(frozen=True)
class StopAnswer:
    verified: bool | None
    gap: bool
    contacts: tuple[Contact, ...]


def answer_stop(
    index: VisitIndex, rules: MatchRules, venue: str, frm: int, to: int, card: str | None
) -> StopAnswer:
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
    contacts = _union_overlaps(w.cards[keep], lo[keep], hi[keep])
    names = index.card_names
    listed = sorted(((names[c], s) for c, s in contacts), key=lambda cs: (-cs[1], cs[0]))
    return StopAnswer(
        verified=verified,
        gap=verified is False,
        contacts=tuple(Contact(n, s, s >= rules.close_contact_s) for n, s in listed),
    )


def _union_overlaps(cards: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, int]]:
    """Per card, the length of the union of its intervals [lo, hi) (all inside the stop)."""
    if len(cards) == 0:
        return []
    order = np.lexsort((lo, cards))
    c, a, b = cards[order].astype(np.int64), lo[order], hi[order]
    # Shift each card's intervals into a range of its own, so one running maximum over the
    # whole array never carries an end from one card into the next.
    span = int(b.max() - a.min()) + 1
    rank = np.concatenate(([0], np.cumsum(c[1:] != c[:-1])))
    base = a.min()
    a2 = (a - base) + rank * span
    b2 = (b - base) + rank * span
    reach = np.maximum.accumulate(b2)
    prev_reach = np.concatenate(([np.int64(-1)], reach[:-1]))
    gain = np.clip(b2 - np.maximum(a2, prev_reach), 0, None)
    first = np.concatenate(([True], c[1:] != c[:-1]))
    starts = np.flatnonzero(first)
    totals = np.add.reduceat(gain, starts)
    return [(int(card), int(total)) for card, total in zip(c[starts], totals, strict=True)
            if total > 0]
