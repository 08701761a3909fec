"""A brute-force reference implementation of the matching contract (issue 3), written from
its text in plain Python and sharing no code with truyvet's matching or streaming code.

Inputs are plain tuples; times are whole seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

# a scan: (card_id, event_id, venue_id, direction, t)
RefScan = tuple[str, str, str, str, int]


def reference_visits(
    scans: Iterable[RefScan], dwell: Callable[[str], int], now_s: int, retention_s: int,
) -> dict[str, list[tuple[str, int, int]]]:
    """card -> [(venue, start, end)]: the walk of the contract over each card's scans."""
    chosen: dict[tuple[str, str], RefScan] = {}
    for s in scans:
        card, event_id, venue, direction, t = s
        if t < now_s - retention_s:
            continue  # gone
        key = (card, event_id)
        # duplicates count once; of conflicting ones the smaller (t, event_id, venue, direction)
        if key not in chosen or (t, event_id, venue, direction) < _order(chosen[key]):
            chosen[key] = s
    per_card: dict[str, list[RefScan]] = defaultdict(list)
    for s in chosen.values():
        per_card[s[0]].append(s)
    result = {}
    for card, items in per_card.items():
        items.sort(key=_order)
        visits = []
        open_visit: tuple[str, int] | None = None
        previous_t: int | None = None
        for _, _, venue, direction, t in items:
            if open_visit is not None and not (direction == "out" and venue == open_visit[0]):
                ov, ot = open_visit
                visits.append((ov, ot, min(t, ot + dwell(ov))))
                open_visit = None
            if direction == "in":
                open_visit = (venue, t)
            elif open_visit is not None:  # the out of the open visit's venue
                visits.append((venue, open_visit[1], t))
                open_visit = None
            else:
                start = t - dwell(venue)
                if previous_t is not None:
                    start = max(start, previous_t)
                visits.append((venue, start, t))
            previous_t = t
        if open_visit is not None:
            ov, ot = open_visit
            visits.append((ov, ot, ot + dwell(ov)))
        result[card] = visits
    return result


def _order(s: RefScan) -> tuple[int, str, str, str]:
    return (s[4], s[1], s[2], s[3])


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:  # overlapping or touching
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def reference_stop(
    visits: dict[str, list[tuple[str, int, int]]], card: str | None, venue: str, frm: int,
    to: int, tolerance_s: int = 1800, close_contact_s: int = 900,
) -> dict[str, object]:
    contacts = []
    for other, vs in visits.items():
        if other == card:
            continue
        merged = _merge([(a, b) for v, a, b in vs if v == venue])
        overlap = sum(max(0, min(b, to) - max(a, frm)) for a, b in merged)
        if overlap > 0:
            contacts.append({"card_id": other, "overlap_s": overlap,
                             "close_contact": overlap >= close_contact_s})
    contacts.sort(key=lambda c: (-c["overlap_s"], c["card_id"]))
    verified = None
    if card is not None:
        verified = any(v == venue and a <= to + tolerance_s and b >= frm - tolerance_s
                       for v, a, b in visits.get(card, []))
    return {"verified": verified, "gap": verified is False, "contacts": contacts}


def reference_buckets(visits: dict[str, list[tuple[str, int, int]]]
                      ) -> dict[tuple[str, int, str], list[tuple[int, int]]]:
    """The reference's visits grouped as the visits topic groups them: (venue, UTC day of the
    start, card) -> [(start, end)], sorted."""
    out: dict[tuple[str, int, str], list[tuple[int, int]]] = defaultdict(list)
    for card, vs in visits.items():
        for venue, start, end in vs:
            out[(venue, start // 86_400, card)].append((start, end))
    return {k: sorted(v) for k, v in out.items()}
