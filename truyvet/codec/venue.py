"""Venue registry record v1 (schemas/venue.v1.schema.json), and the opening-hours format.

Opening hours are, per weekday (``mon`` .. ``sun``), up to four ``HH:MM-HH:MM`` spans in local
time (UTC+07:00); a span whose end is at or before its start runs past midnight. In CSV files
they are written compactly, e.g. ``mon-fri 07:00-17:30; sat 08:00-12:00`` or
``mon-sun 10:00-14:00,16:30-22:00`` (see :func:`parse_hours_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


from truyvet.codec import json_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    count,
    identifier,
    require_object,
    text,
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
_ALLOWED = _REQUIRED | {"v", "address", "capacity", "assumed"}
# what a registry made from the province's list may not know, and so assumes
ASSUMABLE = ("opening_hours", "scanning_points", "staff_count")
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
    assumed: tuple[str, ...] = ()  # of ASSUMABLE: defaults, not what the venue declared


def from_mapping(obj: Any) -> Venue:
    obj = require_object(obj, "venue")
    check_keys(obj, _REQUIRED, _ALLOWED, "venue")
    check_version(obj, VERSION, "venue")
    return Venue(
        venue_id=identifier(obj, "venue_id"),
        name=text(obj, "name", 200, minimum=1),
        district=text(obj, "district", 100, minimum=1),
        ward=text(obj, "ward", 100, minimum=1),
        category=choice(obj, "category", CATEGORIES),
        opening_hours=_hours(obj["opening_hours"]),
        scanning_points=count(obj, "scanning_points", 1000),
        staff_count=count(obj, "staff_count", 100_000),
        address=text(obj, "address", 300) if "address" in obj else "",
        capacity=count(obj, "capacity", 1_000_000) if obj.get("capacity") is not None else None,
        assumed=_assumed(obj.get("assumed", [])),
    )


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
    if v.assumed:
        out["assumed"] = list(v.assumed)
    return out


def _assumed(raw: Any) -> tuple[str, ...]:
    if type(raw) is not list or not all(type(x) is str for x in raw):
        raise InvalidEvent(Reason.WRONG_TYPE, f"assumed must be a list of field names, got {type_name(raw)}")
    unknown = [x for x in raw if x not in ASSUMABLE]
    if unknown or len(set(raw)) != len(raw):
        raise InvalidEvent(Reason.BAD_VALUE, f"assumed: each of {', '.join(ASSUMABLE)} at most "
                                             f"once, got {', '.join(x[:20] for x in raw)}")
    return tuple(x for x in ASSUMABLE if x in raw)


def parse_hours_text(spec: str) -> dict[str, list[str]]:
    """``"mon-fri 07:00-17:30; sat,sun 08:00-12:00,14:00-18:00"`` -> the JSON form."""
    out: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        try:
            days_text, spans_text = part.split(None, 1)
        except ValueError:
            raise InvalidEvent(Reason.BAD_VALUE, f"opening_hours: {part!r} needs days and spans") from None
        for day in _days(days_text):
            out.setdefault(day, []).extend(s.strip() for s in spans_text.split(","))
    return out


def _days(spec: str) -> list[str]:
    days: list[str] = []
    for item in spec.lower().split(","):
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

def key(v: Venue) -> bytes:
    return v.venue_id.encode()


CODEC = json_codec("venue.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
