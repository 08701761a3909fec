"""Venues as the rules see them (pure): when a venue is open, and the registry as a table.

Opening hours are local wall-clock spans per weekday (``truyvet.codec.venue``); a span whose end
is at or before its start runs past midnight into the next day.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from truyvet.codec import venue as venue_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.venue import WEEKDAYS, Venue
from truyvet.domain import localtime


class OpenVenue(NamedTuple):
    """A venue open at some moment: its scanning points, and since when it has been open."""

    points: int
    since_s: int


def is_open(v: Venue, weekday: int, minute: int) -> bool:
    """Open at ``minute`` after local midnight on ``weekday`` (0 = Monday)? Spans past
    midnight count on the next day too. (The same answer as ``open_for(...) is not None``, a
    property test says so, at a fifth of the cost: the figures ask it for every venue hour.)"""
    for s, e in v.opening_hours.get(WEEKDAYS[weekday], ()):
        if (s < e and s <= minute < e) or (e <= s and minute >= s):
            return True
    for s, e in v.opening_hours.get(WEEKDAYS[(weekday - 1) % 7], ()):
        if e <= s and minute < e:
            return True
    return False


def is_open_at(v: Venue, t_s: int) -> bool:
    return is_open(v, localtime.weekday(t_s), localtime.minute_of_day(t_s))


def open_for(v: Venue, weekday: int, minute: int) -> int | None:
    """For how many minutes the venue has been open without a break at ``minute`` after local
    midnight on ``weekday``; None when closed. Spans that meet or overlap are one stretch
    (``mon 00:00-24:00`` after ``sun 00:00-24:00`` has been open since Sunday); it looks back
    two days at most."""
    spans = sorted((s - back * 1440, (e if e > s else e + 1440) - back * 1440)
                   for back in (2, 1, 0)
                   for s, e in v.opening_hours.get(WEEKDAYS[(weekday - back) % 7], ()))
    stretches: list[list[int]] = []  # spans merged where they meet or overlap
    for s, e in spans:
        if stretches and s <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], e)
        else:
            stretches.append([s, e])
    return next((minute - s for s, e in stretches if s <= minute < e), None)


class VenueTable:
    """The venue registry as applied from its compacted topic: the latest record per venue
    (a null value deletes it). Records that fail the codec are counted and skipped: the
    loader refuses them before they get there, this guards against other writers."""

    def __init__(self) -> None:
        self.venues: dict[str, Venue] = {}
        self.invalid = 0

    def apply(self, records: Iterable[tuple[bytes | None, bytes | None]]) -> list[str]:
        """(key, value) records in topic order; returns what was refused, one line each."""
        refused = []
        for key, value in records:
            try:
                self.apply_one(key, value)
            except InvalidEvent as exc:
                refused.append(str(exc))
        return refused

    def apply_one(self, key: bytes | None, value: bytes | None) -> None:
        """One record: a venue, or a tombstone (None) that removes it. Raises ``InvalidEvent``
        for a record the codec refuses (counted in ``invalid``; the table is unchanged)."""
        name = (key or b"").decode("utf-8", "replace")
        if value is None:
            self.venues.pop(name, None)
            return
        try:
            self.venues[name] = venue_codec.decode(value)
        except InvalidEvent as exc:
            self.invalid += 1
            raise InvalidEvent(exc.reason, f"venue record {name[:64]}: {exc}") from exc

    def open_at(self, t_s: int) -> dict[str, OpenVenue]:
        """Venues open at ``t_s`` -> their registered scanning points and since when they have
        been open (to the minute)."""
        weekday, minute = localtime.weekday(t_s), localtime.minute_of_day(t_s)
        out = {}
        for vid, v in list(self.venues.items()):
            minutes = open_for(v, weekday, minute)
            if minutes is not None:
                out[vid] = OpenVenue(v.scanning_points, t_s - t_s % 60 - minutes * 60)
        return out

    def category_of(self, venue_id: str) -> str | None:
        v = self.venues.get(venue_id)
        return v.category if v is not None else None
