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


def reference_clusters(cases: Iterable[tuple[str, str, list[tuple[str, int, int]]]],
                       window: str = "day") -> set[tuple[str, frozenset[tuple[str, int]]]]:
    """Clusters by brute force: every pair of F0 stops (case, classification, [(venue, from_ms,
    to_ms)]) compared, joined by union-find. Two stops at one venue meet on a shared local date
    of Vietnam (``window="day"``: each stop's dates from its start to just before its end,
    by ``datetime`` at UTC+7) or when at most ``window`` seconds apart (an int). A cluster is
    (venue, {(case_id, stop index)}) of two cases or more."""
    from datetime import datetime, timedelta, timezone

    ict = timezone(timedelta(hours=7))

    def dates(a: int, b: int) -> set[object]:
        first = datetime.fromtimestamp(a / 1000, ict).date()
        last = datetime.fromtimestamp(max(a, b - 1) / 1000, ict).date()
        return {first + timedelta(days=d) for d in range((last - first).days + 1)}

    def meet(x: tuple[str, int, int], y: tuple[str, int, int]) -> bool:
        if x[0] != y[0]:
            return False
        if window == "day":
            return bool(dates(x[1], x[2]) & dates(y[1], y[2]))
        gap_ms = max(x[1], y[1]) - min(x[2], y[2])
        return gap_ms <= int(window) * 1000

    stops = [((case_id, i), stop) for case_id, cls, ss in cases if cls == "F0"
             for i, stop in enumerate(ss)]
    parent = list(range(len(stops)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(stops)):
        for j in range(i + 1, len(stops)):
            if meet(stops[i][1], stops[j][1]):
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(stops)):
        groups[find(i)].append(i)
    out = set()
    for members in groups.values():
        if len({stops[i][0][0] for i in members}) >= 2:
            out.add((stops[members[0]][1][0], frozenset(stops[i][0] for i in members)))
    return out


def reference_chain(visits: Iterable[tuple[str, str, int, int]], card: str | None,
                    stops: Iterable[tuple[str, int, int]], close_s: int, rings: int
                    ) -> list[dict[str, tuple[int, str | None, str, int]]]:
    """Rings of close contacts by brute force, from visits (card, venue, start_s, end_s):
    ring 1, every other card whose intervals at a stop's venue, clipped to the stop and merged,
    last ``close_s`` or more; ring k+1, the same for each visit of a ring-k card that began
    after its exposure (the start of its first clipped interval), cards of no earlier ring
    and not the case's. Per ring {card: (exposed_at, via, venue, overlap)}, the earliest
    (then smallest) link kept."""
    by_card_venue: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    of_card: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for c, v, s, e in visits:
        by_card_venue[(c, v)].append((s, e))
        of_card[c].append((v, s, e))

    def met(other: str, venue: str, s: int, e: int) -> tuple[int, int] | None:
        clipped = sorted((max(a, s), min(b, e)) for a, b in by_card_venue.get((other, venue), [])
                         if min(b, e) > max(a, s))
        if not clipped:
            return None
        total = sum(b - a for a, b in _merge(clipped))
        return (clipped[0][0], total) if total >= close_s else None

    def best(found: dict[str, tuple[int, str | None, str, int]], c: str,
             link: tuple[int, str | None, str, int]) -> None:
        held = found.get(c)
        key = (link[0], c, link[1] or "", link[2], link[3])
        if held is None or key < (held[0], c, held[1] or "", held[2], held[3]):
            found[c] = link

    everyone = sorted(of_card)
    seen = {card} if card is not None else set()
    ring: dict[str, tuple[int, str | None, str, int]] = {}
    for venue, s, e in stops:
        for other in everyone:
            if other != card and (m := met(other, venue, s, e)):
                best(ring, other, (m[0], None, venue, m[1]))
    out = []
    while ring and len(out) < rings:
        out.append(ring)
        seen |= ring.keys()
        nxt: dict[str, tuple[int, str | None, str, int]] = {}
        for x, (t, _, _, _) in ring.items():
            for venue, s, e in of_card[x]:
                if s <= t:
                    continue
                for other in everyone:
                    if other != x and other not in seen and (m := met(other, venue, s, e)):
                        best(nxt, other, (m[0], x, venue, m[1]))
        ring = nxt
    return out
