"""Venues and residents of the simulated province (deterministic for a seed)."""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from truyvet.producers.simulator.province import CATEGORIES, DISTRICTS, NAME_WORDS, WEEKDAYS, Category


@dataclass(frozen=True, slots=True)
class Compliance:
    """How a venue scans. Most scan everyone in and out; the directive's problem cases are
    venues that scan only part of their visitors, skip exit scans, or still rely on the
    self-scanned poster (``venue_qr``)."""

    profile: str  # good | lax | no_exit | poster
    entry_rate: float  # probability that a visitor is scanned on entry
    exit_rate: float  # probability that a visitor is scanned on exit
    uses_venue_qr: bool


PROFILES = (  # (profile, share of venues)
    ("good", 0.74), ("lax", 0.14), ("no_exit", 0.06), ("poster", 0.06),
)


def draw_compliance(rng: random.Random) -> Compliance:
    profile = rng.choices([p for p, _ in PROFILES], [w for _, w in PROFILES])[0]
    if profile == "good":
        return Compliance(profile, rng.uniform(0.96, 1.0), rng.uniform(0.85, 0.98), False)
    if profile == "lax":
        return Compliance(profile, rng.uniform(0.45, 0.85), rng.uniform(0.2, 0.6), False)
    if profile == "no_exit":
        return Compliance(profile, rng.uniform(0.9, 1.0), 0.0, False)
    return Compliance(profile, rng.uniform(0.2, 0.5), rng.uniform(0.0, 0.1), True)


@dataclass(frozen=True, slots=True)
class Venue:
    index: int
    venue_id: str
    name: str
    district: int  # index into DISTRICTS
    ward: str
    category: Category
    scanning_points: int
    staff_count: int
    capacity: int
    popularity: float
    compliance: Compliance
    flaky_scanner: bool  # one of its scanners is often offline and sends its scans late

    def scanner_id(self, point: int) -> str:
        return f"{self.venue_id}-s{point + 1}"

    def record(self) -> dict[str, Any]:
        """The venue registry record (schemas/venue.v1)."""
        days = WEEKDAYS[:5] if self.category.weekdays_only else WEEKDAYS
        d = DISTRICTS[self.district]
        return {
            "v": 1,
            "venue_id": self.venue_id,
            "name": self.name,
            "district": d.name,
            "ward": self.ward,
            "category": self.category.name,
            "address": f"{10 + self.index % 190} {NAME_WORDS[self.index % len(NAME_WORDS)]},"
                       f" {self.ward}, {d.name}",
            "opening_hours": {day: list(self.category.hours) for day in days},
            "scanning_points": self.scanning_points,
            "staff_count": self.staff_count,
            "capacity": self.capacity,
        }


@dataclass(frozen=True, slots=True)
class Resident:
    index: int
    card_id: str
    method: str  # card | app: what staff scan for this person
    district: int
    role: str  # worker | student | other
    anchor: int  # venue index of the office or school; -1 if none


@dataclass
class World:
    seed: int
    venues: list[Venue]
    residents: list[Resident]
    # (district, category) -> (venue indices, cumulative popularity)
    _choice: dict[tuple[int, str], tuple[list[int], list[float]]] = field(default_factory=dict)

    def pick_venue(self, rng: random.Random, district: int, category: str) -> Venue:
        """A venue of ``category``: mostly in ``district``, sometimes in Huế city or anywhere;
        popular venues (Zipf) are chosen more often."""
        roll = rng.random()
        if roll < 0.10:
            district = 0
        elif roll < 0.15:
            district = rng.randrange(len(DISTRICTS))
        key = (district, category)
        if key not in self._choice or not self._choice[key][0]:
            key = (-1, category)
        indices, cumulative = self._choice[key]
        return self.venues[indices[bisect(cumulative, rng.random() * cumulative[-1])]]


def build_world(seed: int, residents: int = 20_000, venues: int | None = None) -> World:
    rng = random.Random(f"truyvet-world-{seed}")
    n_venues = venues if venues is not None else max(len(CATEGORIES) * 3, residents // 40)
    district_weights = [d.weight for d in DISTRICTS]
    cats = list(CATEGORIES.values())
    venue_list: list[Venue] = []
    counters: dict[tuple[str, str], int] = {}
    for i in range(n_venues):
        # guarantee every category at least once, then draw by share
        cat = cats[i] if i < len(cats) else rng.choices(cats, [c.share for c in cats])[0]
        di = 0 if i < len(cats) else rng.choices(range(len(DISTRICTS)), district_weights)[0]
        d = DISTRICTS[di]
        n = counters[(d.code, cat.code)] = counters.get((d.code, cat.code), 0) + 1
        points = 1 if cat.capacity[1] < 150 else rng.randint(1, 3)
        venue_list.append(Venue(
            index=i,
            venue_id=f"{d.code}-{cat.code}-{n:04d}",
            name=f"{cat.name_vi} {rng.choice(NAME_WORDS)} {n}",
            district=di,
            ward=rng.choice(d.wards),
            category=cat,
            scanning_points=points,
            staff_count=points + rng.randint(0, 2),
            capacity=rng.randint(*cat.capacity),
            popularity=min(rng.paretovariate(1.1), 40.0),  # heavy tail: a few busy venues
            compliance=draw_compliance(rng),
            flaky_scanner=rng.random() < 0.05,
        ))
    world = World(seed, venue_list, [])
    groups: dict[tuple[int, str], list[int]] = {}
    for v in venue_list:
        groups.setdefault((v.district, v.category.name), []).append(v.index)
        groups.setdefault((-1, v.category.name), []).append(v.index)
    for key, idx in groups.items():
        world._choice[key] = (idx, list(accumulate(venue_list[i].popularity for i in idx)))

    for r in range(residents):
        di = rng.choices(range(len(DISTRICTS)), district_weights)[0]
        roll = rng.random()
        role = "worker" if roll < 0.58 else "student" if roll < 0.78 else "other"
        anchor = -1
        if role != "other":
            anchor = world.pick_venue(rng, di, "office" if role == "worker" else "school").index
        method = "card" if rng.random() < 0.3 else "app"
        # disease-control cards of Thừa Thiên Huế (province code 46), or PC-COVID app codes
        card = f"TKS-46-{r:07d}" if method == "card" else f"PCC-{rng.getrandbits(40):010x}"
        world.residents.append(Resident(r, card, method, di, role, anchor))
    return world
