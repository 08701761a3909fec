"""Everything the simulated province sends, in the order a broker would receive it.

Scanners usually send within seconds; a venue's flaky scanner buffers offline and sends
hours late; some scans are re-sent (same ``event_id``). F0/F1 cases are diagnosed during
the day and declare the visits of their last two days to tracers, from memory (times rounded
to the quarter hour, now and then a visit forgotten); some of those visits were never
scanned: the gaps the directive is about.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from producers.simulator.routine import Visit, local_midnight_s, plan_day, scans_of_visit
from producers.simulator.world import World
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms_local

DAY_S = 86_400
QUARTER_S = 900


@dataclass(frozen=True, slots=True)
class Timed:
    send_ms: int  # when it reaches the broker
    kind: str  # "scan" | "itinerary"
    payload: Any  # CheckIn | itinerary dict (schemas/itinerary.v1)


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
        for resident in world.residents:
            visits = plan_day(world, resident, ordinal, rng)
            today[resident.index] = visits
            self.visits_generated += len(visits)
            for visit in visits:
                for draft in scans_of_visit(world, visit, rng):
                    at_ms = draft.at_s * 1000
                    if at_ms < self.start_ms:
                        continue
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
        self._previous_day = today

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
                    "from": format_ms_local(frm * 1000, 420),
                    "to": format_ms_local(to * 1000, 420),
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


def _local_day(ms: int) -> int:
    """Proleptic ordinal of the UTC+07:00 calendar day containing ``ms``."""
    return date(1970, 1, 1).toordinal() + (ms // 1000 + 7 * 3600) // DAY_S
