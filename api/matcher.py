"""From an itinerary to its match result, and what changed between two results (pure)."""

from __future__ import annotations

from typing import Any

from truyvet.codec.itinerary import Itinerary
from truyvet.codec.timefmt import format_ms
from truyvet.matching.index import VisitIndex
from truyvet.matching.overlap import answer_stop
from truyvet.matching.rules import MatchRules

Result = dict[str, Any]  # schemas/match-result.v1


def match_stops(index: VisitIndex, rules: MatchRules, it: Itinerary) -> list[dict[str, Any]]:
    """The ``stops`` of the match result, in submitted order. Times are whole seconds."""
    out = []
    for stop in it.stops:
        frm, to = stop.from_ms // 1000, stop.to_ms // 1000
        a = answer_stop(index, rules, stop.venue_id, frm, to, it.card_id)
        out.append({
            "venue_id": stop.venue_id,
            "from": format_ms(frm * 1000),
            "to": format_ms(to * 1000),
            "verified": a.verified,
            "gap": a.gap,
            "contacts": [{"card_id": c.card_id, "overlap_s": c.overlap_s,
                          "close_contact": c.close_contact} for c in a.contacts],
        })
    return out


def result(it: Itinerary, stops: list[dict[str, Any]], revision: int, now_ms: int) -> Result:
    return {
        "v": 1,
        "case_id": it.case_id,
        "classification": it.classification,
        "card_id": it.card_id,
        "revision": revision,
        "computed_at": format_ms(now_ms),
        "stops": stops,
    }


def gap_id(case_id: str, i: int, venue: str) -> str:
    return f"{case_id}/{i}/{venue}"


def gap_events(
    it: Itinerary, old: Result | None, new_stops: list[dict[str, Any]], now_ms: int,
    flagged_at: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Gap events (schemas/gap.v1) for the change from ``old`` to ``new_stops``: ``open`` for
    a stop that became a gap, ``resolved`` for one that no longer is (or was withdrawn)."""
    if it.card_id is None:
        return []
    before = {}
    if old is not None:
        for i, s in enumerate(old["stops"]):
            if s["gap"]:
                before[gap_id(it.case_id, i, s["venue_id"])] = s
    after = {gap_id(it.case_id, i, s["venue_id"]): s for i, s in enumerate(new_stops) if s["gap"]}
    now = format_ms(now_ms)
    flagged_at = flagged_at or {}
    events = []
    for gid, s in after.items():
        if gid not in before:
            events.append(_gap(it, gid, s, "open", now, None))
    for gid, s in before.items():
        if gid not in after:
            events.append(_gap(it, gid, s, "resolved", flagged_at.get(gid, old["computed_at"]), now))  # type: ignore[index]
    return events


def _gap(it: Itinerary, gid: str, stop: dict[str, Any], status: str, flagged_at: str,
         resolved_at: str | None) -> dict[str, Any]:
    event = {
        "v": 1, "gap_id": gid, "status": status, "venue_id": stop["venue_id"],
        "case_id": it.case_id, "classification": it.classification, "card_id": it.card_id,
        "from": stop["from"], "to": stop["to"], "flagged_at": flagged_at,
    }
    if resolved_at is not None:
        event["resolved_at"] = resolved_at
    return event
