"""From an itinerary to its match result, its JSON, and what changed between two results.

Pure. Results keep contacts as numpy arrays of card numbers (the index's interning) and
overlaps, in answer order: comparing two revisions is an array comparison, and the JSON of
thousands of contacts is assembled by array copies (``CardTable.contacts_json``), not from
one Python dict per contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from truyvet.codec.itinerary import Itinerary
from truyvet.codec.timefmt import format_ms, parse_ms
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.overlap import answer_stop
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


def match(index: VisitIndex, rules: MatchRules, it: Itinerary) -> tuple[StopResult, ...]:
    """The answer per stop, in submitted order. Times are whole seconds."""
    out = []
    for stop in it.stops:
        frm, to = stop.from_ms // 1000, stop.to_ms // 1000
        a = answer_stop(index, rules, stop.venue_id, frm, to, it.card_id)
        out.append(StopResult(stop.venue_id, frm, to, a.verified, a.gap, a.contact_cards,
                              a.contact_overlaps))
    return tuple(out)


def same_stops(a: tuple[StopResult, ...], b: tuple[StopResult, ...]) -> bool:
    return len(a) == len(b) and all(x.same_as(y) for x, y in zip(a, b, strict=True))


# --- JSON (schemas/match-result.v1) ------------------------------------------------------------


def encode_result(res: Result, index: VisitIndex, close_contact_s: int) -> bytes:
    it = res.itinerary
    head = orjson.dumps({
        "v": 1, "case_id": it.case_id, "classification": it.classification,
        "card_id": it.card_id, "revision": res.revision,
        "computed_at": format_ms(res.computed_at_ms),
    })
    stops = b",".join(_encode_stop(s, index, close_contact_s) for s in res.stops)
    return head[:-1] + b',"stops":[' + stops + b"]}"


def _encode_stop(s: StopResult, index: VisitIndex, close_contact_s: int) -> bytes:
    head = orjson.dumps({"venue_id": s.venue_id, "from": format_ms(s.from_s * 1000),
                         "to": format_ms(s.to_s * 1000), "verified": s.verified, "gap": s.gap})
    contacts = index.cards.contacts_json(s.cards, s.overlaps, close_contact_s)
    return head[:-1] + b',"contacts":' + contacts + b"}"


def decode_result(raw: bytes, it: Itinerary, index: VisitIndex) -> Result:
    """A result as published earlier (match-results topic), against this process's index."""
    obj: dict[str, Any] = orjson.loads(raw)
    stops = []
    for s in obj["stops"]:
        cards = np.array([index.intern(c["card_id"]) for c in s["contacts"]], np.int64)
        overlaps = np.array([c["overlap_s"] for c in s["contacts"]], np.int64)
        stops.append(StopResult(s["venue_id"], parse_ms(s["from"]) // 1000,
                                parse_ms(s["to"]) // 1000, s["verified"], s["gap"], cards,
                                overlaps))
    return Result(it, obj["revision"], parse_ms(obj["computed_at"]), tuple(stops))


# --- gaps (schemas/gap.v1) -----------------------------------------------------------------------
def gap_id(case_id: str, i: int, venue: str) -> str:
    return f"{case_id}/{i}/{venue}"


def gap_events(
    it: Itinerary, old: tuple[StopResult, ...] | None, new: tuple[StopResult, ...], now_ms: int,
    flagged_at: dict[str, str],
) -> list[dict[str, Any]]:
    """``open`` for a stop that became a gap, ``resolved`` for one that no longer is (or was
    withdrawn by a corrected itinerary). ``flagged_at``: gap_id -> when it was opened."""
    if it.card_id is None and not old:
        return []
    before = {gap_id(it.case_id, i, s.venue_id): s for i, s in enumerate(old or ()) if s.gap}
    after = {gap_id(it.case_id, i, s.venue_id): s for i, s in enumerate(new) if s.gap}
    now = format_ms(now_ms)
    events = [_gap(it, gid, s, "open", now, None) for gid, s in after.items() if gid not in before]
    events += [_gap(it, gid, s, "resolved", flagged_at.get(gid, now), now)
               for gid, s in before.items() if gid not in after]
    return events


def _gap(it: Itinerary, gid: str, stop: StopResult, status: str, flagged_at: str,
         resolved_at: str | None) -> dict[str, Any]:
    event = {
        "v": 1, "gap_id": gid, "status": status, "venue_id": stop.venue_id,
        "case_id": it.case_id, "classification": it.classification, "card_id": it.card_id,
        "from": format_ms(stop.from_s * 1000), "to": format_ms(stop.to_s * 1000),
        "flagged_at": flagged_at,
    }
    if resolved_at is not None:
        event["resolved_at"] = resolved_at
    return event
