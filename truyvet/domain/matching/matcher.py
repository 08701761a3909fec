"""From an itinerary to its match result, and the result's JSON (pure).

Results keep contacts as numpy arrays of card numbers (the index's interning) and overlaps, in
answer order: comparing two revisions is an array comparison, and the JSON of thousands of
contacts is assembled by array copies (``CardTable.contacts_json``), not from one Python dict
per contact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truyvet.codec import match_result as match_result_codec
from truyvet.codec.itinerary import Itinerary
from truyvet.codec.match_result import MatchResult
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.overlap import answer_stops
from truyvet.domain.matching.rules import MatchRules


@dataclass(frozen=True)
class StopResult:
    venue_id: str
    from_s: int
    to_s: int
    verified: bool | None
    gap: bool
    cards: np.ndarray  # card numbers, in answer order
    overlaps: np.ndarray  # seconds, same order

    def same_as(self, other: StopResult) -> bool:
        return (self.venue_id, self.from_s, self.to_s, self.verified, self.gap) == (
            other.venue_id, other.from_s, other.to_s, other.verified, other.gap
        ) and np.array_equal(self.cards, other.cards) and np.array_equal(self.overlaps, other.overlaps)


@dataclass(frozen=True)
class Result:
    itinerary: Itinerary
    revision: int
    computed_at_ms: int
    stops: tuple[StopResult, ...]


def match(index: VisitIndex, rules: MatchRules, it: Itinerary,
          threads: int = 1) -> tuple[StopResult, ...]:
    """The answer per stop, in submitted order, by ``threads`` threads. Times are whole
    seconds. The index must not change meanwhile (``answer_stops``: the caller holds its lock
    where others write it)."""
    stops = [(stop.venue_id, stop.from_ms // 1000, stop.to_ms // 1000) for stop in it.stops]
    return tuple(StopResult(v, frm, to, a.verified, a.gap, a.contact_cards, a.contact_overlaps)
                 for (v, frm, to), a in zip(stops, answer_stops(index, rules, stops, it.card_id, threads),
                                            strict=True))


def same_stops(a: tuple[StopResult, ...], b: tuple[StopResult, ...]) -> bool:
    return len(a) == len(b) and all(x.same_as(y) for x, y in zip(a, b, strict=True))


def encode_result(res: Result, index: VisitIndex, close_contact_s: int) -> bytes:
    """The result as ``match-result.v1`` JSON: served, published and stored as it is."""
    it = res.itinerary
    return match_result_codec.encode_parts(
        it.case_id, it.classification, it.card_id, res.revision, res.computed_at_ms,
        ((s.venue_id, s.from_s * 1000, s.to_s * 1000, s.verified, s.gap,
          index.cards.contacts_json(s.cards, s.overlaps, close_contact_s)) for s in res.stops))


def reflects(published: MatchResult, it: Itinerary) -> bool:
    """Whether a published result answers this version of the itinerary: the same stops,
    classification and card (the principals it is shared with are not in a result)."""
    return ((published.classification, published.card_id) == (it.classification, it.card_id)
            and [(s.venue_id, s.from_ms, s.to_ms) for s in published.stops]
            == [(s.venue_id, s.from_ms, s.to_ms) for s in it.stops])


def from_published(published: MatchResult, it: Itinerary, index: VisitIndex) -> Result:
    """A result as published earlier (match-results topic), against this process's index."""
    stops = []
    for s in published.stops:
        cards = np.array([index.intern(c.card_id) for c in s.contacts], np.int64)
        overlaps = np.array([c.overlap_s for c in s.contacts], np.int64)
        stops.append(StopResult(s.venue_id, s.from_ms // 1000, s.to_ms // 1000, s.verified,
                                s.gap, cards, overlaps))
    return Result(it, published.revision, published.computed_at_ms, tuple(stops))
