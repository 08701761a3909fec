"""One resident's day: the visits they make, and the scans the venues record of them.

Times are epoch seconds (UTC) here; the province lives at UTC+07:00. The day plan draws
from the resident-day's own random generator, so any resident-day can be regenerated alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from truyvet.domain import localtime
from truyvet.producers.simulator.world import Resident, Venue, World

EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal(): days are proleptic ordinals here
HOUR = 3600
MIN = 60


@dataclass(frozen=True, slots=True)
class Visit:
    resident: int
    venue: int
    arrive_s: int
    depart_s: int


@dataclass(frozen=True, slots=True)
class ScanDraft:
    """A scan as it happened, before ids and send times are assigned."""

    resident: int
    venue: int
    point: int
    direction: str
    at_s: int
    method: str


def local_midnight_s(day_ordinal: int) -> int:
    """Epoch seconds of 00:00 (UTC+07:00) on the day with this proleptic ordinal."""
    return localtime.day_start_s(day_ordinal - EPOCH_ORDINAL)


def plan_day(world: World, resident: Resident, day_ordinal: int, rng: random.Random) -> list[Visit]:
    """The visits of one resident on one local day, in time order, never overlapping."""
    midnight = local_midnight_s(day_ordinal)
    weekday = localtime.weekday(local_midnight_s(day_ordinal))  # 0 = Monday
    workday = weekday < 5
    at = lambda h, m=0, jitter_min=0: (  # noqa: E731 - tiny local helper
        midnight + h * HOUR + m * MIN + (rng.randint(-jitter_min, jitter_min) * MIN if jitter_min else 0)
    )
    wanted: list[tuple[int, int, Venue]] = []  # (arrive, depart, venue)

    def add(category: str, arrive: int, stay_min: tuple[int, int] | None = None) -> None:
        venue = world.pick_venue(rng, resident.district, category)
        lo, hi = stay_min or venue.category.stay_min
        wanted.append((arrive, arrive + rng.randint(lo, hi) * MIN, venue))

    def anchor(arrive: int, depart: int) -> None:
        wanted.append((arrive, depart, world.venues[resident.anchor]))

    if resident.role == "worker" and workday:
        if rng.random() < 0.25:
            add("cafe", at(6, 45, 20), (20, 45))
        if rng.random() < 0.35:  # lunch out splits the office day
            anchor(at(7, 45, 20), at(11, 30, 10))
            add("restaurant" if rng.random() < 0.7 else "cafe", at(11, 40, 5), (30, 50))
            anchor(at(12, 40, 5), at(17, 0, 40))
        else:
            anchor(at(7, 45, 20), at(17, 0, 40))
    elif resident.role == "student" and workday:
        anchor(at(6, 55, 10), at(16, 30, 30) if rng.random() < 0.6 else at(11, 15, 10))
    else:
        if rng.random() < 0.4:
            add("market", at(7, 0, 60))
        if rng.random() < 0.3:
            add("cafe", at(8, 30, 60))
    if rng.random() < 0.08:
        add("gym", at(17, 45, 40) if rng.random() < 0.6 else at(5, 45, 15))
    if rng.random() < 0.04:
        add("worship", at(18, 0, 40))
    if rng.random() < 0.01:
        add("hospital", at(9, 0, 120))
    evening = rng.random()
    bar_share = 0.14 if weekday in (4, 5) else 0.04
    if evening < bar_share:
        add("bar", at(20, 0, 80))
    elif evening < bar_share + 0.16:
        add("restaurant", at(18, 45, 40))
    elif evening < bar_share + 0.30:
        add("cafe", at(20, 0, 50))
    elif evening < bar_share + 0.40:
        add("supermarket", at(19, 0, 60))
    if rng.random() < 0.003:
        add("hotel", at(21, 0, 30), (300, 600))

    wanted.sort(key=lambda w: w[0])
    visits: list[Visit] = []
    busy_until = 0
    for arrive, depart, venue in wanted:
        if arrive < busy_until + 5 * MIN:  # cannot be in two places: keep the earlier plan
            continue
        visits.append(Visit(resident.index, venue.index, arrive, depart))
        busy_until = depart
    return visits


def scans_of_visit(world: World, visit: Visit, rng: random.Random) -> list[ScanDraft]:
    """The scans a venue records of one visit, according to its compliance."""
    venue = world.venues[visit.venue]
    person = world.residents[visit.resident]
    comp = venue.compliance
    method = "venue_qr" if comp.uses_venue_qr else person.method
    out: list[ScanDraft] = []
    point = rng.randrange(venue.scanning_points)
    if rng.random() < comp.entry_rate:
        at = visit.arrive_s + rng.randint(0, 45)
        out.append(ScanDraft(visit.resident, visit.venue, point, "in", at, method))
    if rng.random() < comp.exit_rate:
        at = max(visit.depart_s - rng.randint(0, 30), visit.arrive_s + 60)
        out.append(ScanDraft(visit.resident, visit.venue, point, "out", at, method))
    return out
