"""Venue registry record v1 (schemas/venue.v1.schema.json), and opening hours.

Opening hours are, per weekday (``mon`` .. ``sun``), up to four ``HH:MM-HH:MM`` spans in local
time (UTC+07:00); a span whose end is at or before its start runs past midnight. In CSV files
they are written compactly, e.g. ``mon-fri 07:00-17:30; sat 08:00-12:00`` or
``mon-sun 10:00-14:00,16:30-22:00`` (see :func:`parse_hours_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    identifier,
    load_json,
    require_object,
    type_name,
)

VERSION = 1
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CATEGORIES = frozenset({"cafe", "restaurant", "bar", "market", "supermarket", "office", "school",
                        "hospital", "hotel", "gym", "worship", "other"})
# the directive's inspection week targets these: cafes, restaurants, places serving alcohol
HOSPITALITY = frozenset({"cafe", "restaurant", "bar"})
_REQUIRED = frozenset({"venue_id", "name", "district", "ward", "category", "opening_hours",
                       "scanning_points", "staff_count"})
_ALLOWED = _REQUIRED | {"v", "address", "capacity"}
_SPAN = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))")

Span = tuple[int, int]  # minutes after local midnight; end <= start runs past midnight


@dataclass(frozen=True, slots=True)
class Venue:
    venue_id: str
    name: str
    district: str
    ward: str
    category: str
    opening_hours: dict[str, tuple[Span, ...]]
    scanning_points: int
    staff_count: int
    address: str = ""
    capacity: int | None = None


def from_mapping(obj: Any) -> Venue:
    obj = require_object(obj, "venue")
    check_keys(obj, _REQUIRED, _ALLOWED, "venue")
    check_version(obj, VERSION, "venue")
    return Venue(
        venue_id=identifier(obj, "venue_id"),
        name=_text(obj, "name", 200),
        district=_text(obj, "district", 100),
        ward=_text(obj, "ward", 100),
        category=choice(obj, "category", CATEGORIES),
        opening_hours=_hours(obj["opening_hours"]),
        scanning_points=_count(obj, "scanning_points", 1000),
        staff_count=_count(obj, "staff_count", 100_000),
        address=_text(obj, "address", 300, minimum=0) if "address" in obj else "",
        capacity=_count(obj, "capacity", 1_000_000) if obj.get("capacity") is not None else None,
    )


def decode(raw: bytes) -> Venue:
    return from_mapping(load_json(raw))


def to_mapping(v: Venue) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": VERSION, "venue_id": v.venue_id, "name": v.name, "district": v.district,
        "ward": v.ward, "category": v.category,
        "opening_hours": {d: [_fmt(s) for s in spans] for d, spans in v.opening_hours.items()},
        "scanning_points": v.scanning_points, "staff_count": v.staff_count,
    }
    if v.address:
        out["address"] = v.address
    if v.capacity is not None:
        out["capacity"] = v.capacity
    return out


def encode(v: Venue) -> bytes:
    return orjson.dumps(to_mapping(v))


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


def parse_hours_text(text: str) -> dict[str, list[str]]:
    """``"mon-fri 07:00-17:30; sat,sun 08:00-12:00,14:00-18:00"`` -> the JSON form."""
    out: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        try:
            days_text, spans_text = part.split(None, 1)
        except ValueError:
            raise InvalidEvent(Reason.BAD_VALUE, f"opening_hours: {part!r} needs days and spans") from None
        for day in _days(days_text):
            out.setdefault(day, []).extend(s.strip() for s in spans_text.split(","))
    return out


def _days(text: str) -> list[str]:
    days: list[str] = []
    for item in text.lower().split(","):
        if "-" in item:
            a, b = item.split("-", 1)
            if a not in WEEKDAYS or b not in WEEKDAYS:
                raise InvalidEvent(Reason.BAD_VALUE, f"opening_hours: unknown days {item!r}")
            i, j = WEEKDAYS.index(a), WEEKDAYS.index(b)
            days.extend(WEEKDAYS[k % 7] for k in range(i, i + (j - i) % 7 + 1))
        elif item in WEEKDAYS:
            days.append(item)
        else:
            raise InvalidEvent(Reason.BAD_VALUE, f"opening_hours: unknown day {item!r}")
    return days


def _hours(raw: Any) -> dict[str, tuple[Span, ...]]:
    if type(raw) is not dict:
        raise InvalidEvent(Reason.WRONG_TYPE, f"opening_hours must be an object, got {type_name(raw)}")
    out = {}
    for day, spans in raw.items():
        if day not in WEEKDAYS:
            raise InvalidEvent(Reason.BAD_VALUE, f"opening_hours: {str(day)[:16]!r} is not mon..sun")
        if type(spans) is not list or len(spans) > 4:
            raise InvalidEvent(Reason.BAD_VALUE, f"opening_hours.{day}: a list of at most 4 spans")
        parsed = []
        for span in spans:
            m = _SPAN.fullmatch(span) if type(span) is str else None
            if m is None:
                raise InvalidEvent(Reason.BAD_VALUE, f"opening_hours.{day}: {str(span)[:20]!r} is not HH:MM-HH:MM")
            start = int(m.group(1)) * 60 + int(m.group(2))
            end = 1440 if m.group(5) else int(m.group(3)) * 60 + int(m.group(4))
            parsed.append((start, end))
        out[day] = tuple(parsed)
    return out


def _fmt(span: Span) -> str:
    s, e = span
    return f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"


def _text(obj: dict[str, Any], key: str, maximum: int, minimum: int = 1) -> str:
    value = obj[key]
    if type(value) is not str:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a string, got {type_name(value)}")
    if not minimum <= len(value) <= maximum:
        reason = Reason.EMPTY_FIELD if not value else Reason.FIELD_TOO_LONG
        raise InvalidEvent(reason, f"{key} must have {minimum}..{maximum} characters")
    return value


def _count(obj: dict[str, Any], key: str, maximum: int) -> int:
    value = obj[key]
    if type(value) is not int:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be an integer, got {type_name(value)}")
    if not 0 <= value <= maximum:
        raise InvalidEvent(Reason.BAD_VALUE, f"{key}={value} outside 0..{maximum}")
    return value
