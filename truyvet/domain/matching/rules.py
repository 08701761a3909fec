"""The parameters of the matching contract, in one place."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from truyvet.codec.venue import CATEGORIES

DAY_S = 86_400


@dataclass(frozen=True)
class MatchRules:
    default_dwell_s: int = 3600  # how long an open visit lasts without an exit scan
    dwell_by_category_s: dict[str, int] = field(default_factory=dict)
    tolerance_s: int = 1800  # a declared stop is verified by a visit within this slack
    close_contact_s: int = 900  # overlap from which a contact is close
    retention_s: int = 21 * DAY_S  # scans older than this (by event time) are gone

    @property
    def sweep_every_s(self) -> float:
        """How often state older than the retention is swept away: a tenth of the retention,
        between 1 s (short retentions in tests) and 10 minutes."""
        return min(600.0, max(1.0, self.retention_s / 10))

    def dwell_for(self, category: str | None) -> int:
        if category is None:
            return self.default_dwell_s
        return self.dwell_by_category_s.get(category, self.default_dwell_s)

    def dwell_function(self, category_of: Callable[[str], str | None]) -> Callable[[str], int]:
        """dwell(venue_id) given a venue -> category lookup (the venue registry)."""
        if not self.dwell_by_category_s:
            return ConstantDwell(self.default_dwell_s)
        return lambda venue: self.dwell_for(category_of(venue))


class ConstantDwell:
    """The same dwell at every venue (no per-category dwell): a compiled builder reads
    ``seconds`` once instead of asking for every visit."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def __call__(self, venue: str) -> int:
        return self.seconds


def parse_dwell(spec: str) -> tuple[int, dict[str, int]]:
    """``"60"`` or ``"60,office=540,hotel=720"`` (minutes) -> (default_s, {category: s}).

    Each category must be a venue registry category (:data:`~truyvet.codec.venue.CATEGORIES`):
    a misspelt one would never apply, so it is refused (``ValueError``, one sentence), as is a
    length that is not a positive number of minutes."""
    default_s = 3600
    by_category: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            default_s = _seconds(part, "the default")
            continue
        name, minutes = (x.strip() for x in part.split("=", 1))
        if name == "default":
            default_s = _seconds(minutes, "the default")
        elif name not in CATEGORIES:
            raise ValueError(f"{name!r} is not a venue category: one of "
                             f"{', '.join(sorted(CATEGORIES))} (or default)")
        elif name in by_category:
            raise ValueError(f"{name} is given twice")
        else:
            by_category[name] = _seconds(minutes, name)
    return default_s, by_category


def _seconds(minutes: str, what: str) -> int:
    try:
        value = float(minutes)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value * 60 >= 1):
        raise ValueError(f"the dwell of {what} must be a positive number of minutes, not {minutes!r}")
    return int(value * 60)
