"""Everything the simulated province sends, in the order a broker would receive it.

Scanners usually send within seconds; a venue's flaky scanner buffers offline and sends
hours late; some scans are re-sent (same ``event_id``). Half of the lax venues switch their
scanners off for an hour or more of a day (no scans, no heartbeats: "silent while open"), and
half of the others with more than one entrance switch one entrance's scanner off for a stretch
(its visitors go unscanned: "an entrance not scanned");
scanners send heartbeats while on; three venues in ten have a door counter that reports the
people entering every hour (the coverage rate's denominator). F0/F1 cases are diagnosed during
the day and declare the visits of their last two days to tracers, from memory (times rounded
to the quarter hour, now and then a visit forgotten); some of those visits were never
scanned: the gaps the directive is about.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from truyvet.producers.simulator.routine import (
    EPOCH_ORDINAL,
    Visit,
    local_midnight_s,
    plan_day,
    scans_of_visit,
)
from truyvet.producers.simulator.world import Venue, World
from truyvet.codec.checkin import CheckIn
from truyvet.codec.headcount import Headcount
from truyvet.codec.heartbeat import Heartbeat
from truyvet.domain import localtime

DAY_S = 86_400
QUARTER_S = 900
HEARTBEAT_S = 600


@dataclass(frozen=True, slots=True)
class Timed:
    send_ms: int  # when it reaches the broker
    kind: str  # "scan" | "itinerary" | "heartbeat" | "headcount"
    payload: Any  # CheckIn | itinerary dict (schemas/itinerary.v1) | Heartbeat | Headcount


@dataclass(frozen=True)
class Behaviour:
    max_late_s: int = 2 * 3600  # how late a flaky scanner's buffered scans may arrive
    offline_share: float = 0.5  # share of a flaky scanner's scans that are buffered
    duplicate_rate: float = 0.005  # share of scans sent twice
    cases_per_day: float = 4.0  # F0/F1 cases diagnosed per simulated day
    forget_rate: float = 0.1  # share of real visits a case does not declare
    known_card_rate: float = 0.85  # share of itineraries that carry the person's card


class Timeline:
    def __init__(self, world: World, start_ms: int, behaviour: Behaviour | None = None) -> None:
        self.world = world
        self.start_ms = start_ms
        self.b = behaviour or Behaviour()
        self._pending: list[tuple[int, int, Timed]] = []
        self._seq = 0
        self._previous_day: dict[int, list[Visit]] = {}
        self.visits_generated = 0

    def events(self) -> Iterator[Timed]:
        """Infinite, ordered by ``send_ms``; starts with scans made at or after ``start_ms``."""
        ordinal = _local_day(self.start_ms)
        while True:
            self._generate_day(ordinal)
            ordinal += 1
            horizon_ms = local_midnight_s(ordinal) * 1000
            while self._pending and self._pending[0][0] < horizon_ms:
                yield heapq.heappop(self._pending)[2]

    def _push(self, item: Timed) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (item.send_ms, self._seq, item))

    def _generate_day(self, ordinal: int) -> None:
        world, b = self.world, self.b
        rng = random.Random(f"truyvet-day-{world.seed}-{ordinal}")
        today: dict[int, list[Visit]] = {}
        counter = 0
        silent = self._silent_windows(ordinal)
        doors = self._door_off_windows(ordinal, silent)
        for resident in world.residents:
            visits = plan_day(world, resident, ordinal, rng)
            today[resident.index] = visits
            self.visits_generated += len(visits)
            for visit in visits:
                for draft in scans_of_visit(world, visit, rng):
                    at_ms = draft.at_s * 1000
                    off = silent.get(draft.venue)
                    door = doors.get(draft.venue)
                    if at_ms < self.start_ms or (off and off[0] <= draft.at_s < off[1]) or (
                            door and door[0] == draft.point and door[1] <= draft.at_s < door[2]):
                        continue  # before the start, or the scanner there was switched off
                    counter += 1
                    venue = world.venues[draft.venue]
                    scan = CheckIn(
                        event_id=f"e{world.seed:x}-{ordinal}-{counter:07d}",
                        card_id=resident.card_id,
                        venue_id=venue.venue_id,
                        scanner_id=venue.scanner_id(draft.point),
                        direction=draft.direction,
                        scanned_at_ms=at_ms,
                        method=draft.method,
                    )
                    if venue.flaky_scanner and rng.random() < b.offline_share:
                        delay_ms = rng.randint(300, max(300, b.max_late_s)) * 1000
                    else:
                        delay_ms = rng.randint(200, 2000)
                    self._push(Timed(at_ms + delay_ms, "scan", scan))
                    if rng.random() < b.duplicate_rate:
                        resend_ms = at_ms + delay_ms + rng.randint(1000, 600_000)
                        self._push(Timed(resend_ms, "scan", scan))
        self._diagnose(ordinal, rng, today)
        self._signals(ordinal, today, silent, doors)
        self._previous_day = today

    def _silent_windows(self, ordinal: int) -> dict[int, tuple[int, int]]:
        """Venues whose scanners are switched off for a stretch of their opening hours today
        (half of the lax and poster venues, one to three hours)."""
        rng = random.Random(f"truyvet-silent-{self.world.seed}-{ordinal}")
        out = {}
        for v in self.world.venues:
            if v.compliance.profile not in ("lax", "poster") or rng.random() >= 0.5:
                continue
            stretch = _off_stretch(v, ordinal, rng)
            if stretch is not None:
                out[v.index] = stretch
        return out

    def _door_off_windows(self, ordinal: int, silent: dict[int, tuple[int, int]]
                          ) -> dict[int, tuple[int, int, int]]:
        """Venues with more than one entrance that switch one entrance's scanner off for a
        stretch of their opening hours today (half of the lax and poster venues not silent
        as a whole, one to three hours): venue index -> (point, from_s, to_s)."""
        rng = random.Random(f"truyvet-door-{self.world.seed}-{ordinal}")
        out = {}
        for v in self.world.venues:
            if v.scanning_points < 2 or v.index in silent or \
                    v.compliance.profile not in ("lax", "poster") or rng.random() >= 0.5:
                continue
            stretch = _off_stretch(v, ordinal, rng)
            if stretch is not None:
                out[v.index] = (rng.randrange(v.scanning_points), *stretch)
        return out

    def _signals(self, ordinal: int, today: dict[int, list[Visit]],
                 silent: dict[int, tuple[int, int]],
                 doors: dict[int, tuple[int, int, int]]) -> None:
        """Scanner heartbeats every HEARTBEAT_S while a venue is open (not while its scanners
        are off), and hourly door-counter headcounts at venues that have a counter."""
        rng = random.Random(f"truyvet-signals-{self.world.seed}-{ordinal}")
        arrivals: dict[int, list[int]] = {}
        for visits in today.values():
            for visit in visits:
                arrivals.setdefault(visit.venue, []).append(visit.arrive_s)
        for v in self.world.venues:
            off = silent.get(v.index, (0, 0))
            door = doors.get(v.index, (-1, 0, 0))
            for a, b in open_spans(v, ordinal):
                for point in range(v.scanning_points):
                    t = a + rng.randint(0, HEARTBEAT_S)
                    while t < b:
                        door_off = door[0] == point and door[1] <= t < door[2]
                        if not off[0] <= t < off[1] and not door_off and t * 1000 >= self.start_ms:
                            hb = Heartbeat(v.scanner_id(point), v.venue_id, t * 1000,
                                           battery_pct=rng.randint(15, 100), queued_scans=0)
                            self._push(Timed(t * 1000 + rng.randint(100, 1500), "heartbeat", hb))
                        t += HEARTBEAT_S
                if not has_door_counter(v):
                    continue
                times = sorted(arrivals.get(v.index, ()))
                for h in range(a - a % 3600, b, 3600):
                    lo, hi = max(h, a), min(h + 3600, b)
                    if lo * 1000 < self.start_ms:
                        continue
                    n = bisect_left(times, hi) - bisect_left(times, lo)
                    hc = Headcount(f"hc-{v.venue_id}-{lo}", v.venue_id, lo * 1000, hi * 1000, n,
                                   "door_counter", f"counter:{v.venue_id}")
                    self._push(Timed(hi * 1000 + 60_000, "headcount", hc))

    def _diagnose(self, ordinal: int, rng: random.Random, today: dict[int, list[Visit]]) -> None:
        b, world = self.b, self.world
        n = int(b.cases_per_day) + (rng.random() < b.cases_per_day % 1)
        midnight = local_midnight_s(ordinal)
        day = date.fromordinal(ordinal)
        for k in range(n):
            person = world.residents[rng.randrange(len(world.residents))]
            diagnosed_s = midnight + rng.randint(8 * 3600, 20 * 3600)
            visits = self._previous_day.get(person.index, []) + today.get(person.index, [])
            stops = []
            for v in visits:
                if v.arrive_s >= diagnosed_s or v.arrive_s < diagnosed_s - 2 * DAY_S:
                    continue
                if rng.random() < b.forget_rate:
                    continue
                frm = v.arrive_s - v.arrive_s % QUARTER_S
                to = min(v.depart_s, diagnosed_s)
                to = to + (-to) % QUARTER_S
                stops.append({
                    "venue_id": world.venues[v.venue].venue_id,
                    "from": localtime.format_local(frm * 1000),
                    "to": localtime.format_local(to * 1000),
                })
            if not stops:
                continue
            classification = "F0" if rng.random() < 0.7 else "F1"
            itinerary = {
                "case_id": f"{'BN' if classification == 'F0' else 'F1'}-TTH-"
                           f"{day:%Y%m%d}-{world.seed % 1000:03d}{k:03d}",
                "classification": classification,
                "card_id": person.card_id if rng.random() < b.known_card_rate else None,
                "stops": stops,
            }
            send_ms = (diagnosed_s + 2 * 3600) * 1000  # the interview, two hours later
            if send_ms >= self.start_ms:
                self._push(Timed(send_ms, "itinerary", itinerary))


def open_spans(v: Venue, ordinal: int) -> list[tuple[int, int]]:
    """The venue's opening hours on a local day, as epoch-second spans (ends past midnight
    run into the next day)."""
    weekday = localtime.weekday(local_midnight_s(ordinal))
    if v.category.weekdays_only and weekday >= 5:
        return []
    midnight = local_midnight_s(ordinal)
    spans = []
    for text in v.category.hours:
        a, b = text.split("-")
        start = int(a[:2]) * 3600 + int(a[3:]) * 60
        end = int(b[:2]) * 3600 + int(b[3:]) * 60
        if end <= start:
            end += DAY_S
        spans.append((midnight + start, midnight + end))
    return spans


def has_door_counter(v: Venue) -> bool:
    """Three venues in ten count the people entering (a fixed, seed-independent choice)."""
    return (v.index * 7919) % 10 < 3


def _local_day(ms: int) -> int:
    """Proleptic ordinal of the UTC+07:00 calendar day containing ``ms``."""
    return EPOCH_ORDINAL + localtime.local_day(ms // 1000)


def _off_stretch(v: Venue, ordinal: int, rng: random.Random) -> tuple[int, int] | None:
    """One to three hours of one of the venue's opening spans today (None: closed today)."""
    spans = open_spans(v, ordinal)
    if not spans:
        return None
    a, b = rng.choice(spans)
    length = rng.randint(3600, 3 * 3600)
    start = rng.randint(a, max(a, b - length))
    return start, min(b, start + length)
