"""Venue compliance record v1 (schemas/compliance.v1.schema.json): the current figures of one
venue for one UTC hour, one local day, one headcount report or one gap, as the compliance job
keeps them. Compacted topic ``<prefix>.compliance.v1``; key = venue_id, kind and id joined by
U+001F (the id: the epoch hour, the local day number, the headcount id, the gap id); each
record replaces the previous one of its key; partitioned by venue_id (set by the job).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any


from truyvet.codec import json_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    count,
    identifier,
    optional_timestamp_ms,
    require_object,
    text,
    timestamp_ms,
    type_name,
)
from truyvet.codec.gap import STATUSES
from truyvet.codec.headcount import SOURCES
from truyvet.codec.timefmt import format_ms, parse_ms

VERSION = 1
SEP = "\x1f"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
BIG = 2**40
METHODS = ("card", "app", "venue_qr")


@dataclass(frozen=True, slots=True)
class HourFigures:
    """Scans of one UTC hour (each event_id once) and the scanners heard in it."""

    venue_id: str
    hour: int  # epoch hour: start_s // 3600
    scans_in: int
    scans_out: int
    card: int  # scans by method
    app: int
    venue_qr: int  # the banned self-scanned poster
    cards: int  # distinct cards scanned
    scanners_heard: int  # by a scan or a heartbeat
    heartbeats: int

    kind = "hour"

    @property
    def id(self) -> str:
        return str(self.hour)


@dataclass(frozen=True, slots=True)
class DayFigures:
    """Cards of one local day (UTC+07:00): scanned in, and of those also scanned out."""

    venue_id: str
    day: int  # the local date as days since 1970-01-01
    cards_in: int
    cards_in_out: int

    kind = "day"

    @property
    def id(self) -> str:
        return str(self.day)

    @property
    def date(self) -> str:
        return _start_text(self.day * DAY_MS)[:10]


@dataclass(frozen=True, slots=True)
class Coverage:
    """People counted over a headcount's span, and distinct cards scanned in during it."""

    venue_id: str
    headcount_id: str
    from_ms: int
    to_ms: int
    source: str  # door_counter | inspector
    people_counted: int
    people_scanned: int

    kind = "coverage"

    @property
    def id(self) -> str:
        return self.headcount_id

    @property
    def coverage(self) -> float | None:
        return round(self.people_scanned / self.people_counted, 4) if self.people_counted else None


@dataclass(frozen=True, slots=True)
class GapStatus:
    """The latest status of one gap flagged against the venue."""

    venue_id: str
    gap_id: str
    status: str  # open | resolved
    case_id: str
    from_ms: int
    to_ms: int
    flagged_at_ms: int
    resolved_at_ms: int | None

    kind = "gap"

    @property
    def id(self) -> str:
        return self.gap_id


ComplianceRecord = HourFigures | DayFigures | Coverage | GapStatus
KINDS = {"hour": HourFigures, "day": DayFigures, "coverage": Coverage, "gap": GapStatus}


@lru_cache(maxsize=1 << 16)  # hours and days recur in every batch: formatted once each
def _start_text(ms: int) -> str:
    return format_ms(ms)


def key(r: ComplianceRecord) -> bytes:
    return f"{r.venue_id}{SEP}{r.kind}{SEP}{r.id}".encode()


def to_mapping(r: ComplianceRecord) -> dict[str, Any]:
    head = {"v": VERSION, "kind": r.kind, "venue_id": r.venue_id}
    if isinstance(r, HourFigures):
        return {**head, "hour": _start_text(r.hour * HOUR_MS), "scans_in": r.scans_in,
                "scans_out": r.scans_out,
                "by_method": {"card": r.card, "app": r.app, "venue_qr": r.venue_qr},
                "cards": r.cards, "scanners_heard": r.scanners_heard, "heartbeats": r.heartbeats}
    if isinstance(r, DayFigures):
        return {**head, "day": r.date, "cards_in": r.cards_in, "cards_in_out": r.cards_in_out}
    if isinstance(r, Coverage):
        return {**head, "headcount_id": r.headcount_id, "from": format_ms(r.from_ms),
                "to": format_ms(r.to_ms), "source": r.source, "people_counted": r.people_counted,
                "people_scanned": r.people_scanned, "coverage": r.coverage}
    return {**head, "gap_id": r.gap_id, "status": r.status, "case_id": r.case_id,
            "from": format_ms(r.from_ms), "to": format_ms(r.to_ms),
            "flagged_at": format_ms(r.flagged_at_ms),
            "resolved_at": None if r.resolved_at_ms is None else format_ms(r.resolved_at_ms)}


_FIELDS = {
    "hour": frozenset({"hour", "scans_in", "scans_out", "by_method", "cards", "scanners_heard",
                       "heartbeats"}),
    "day": frozenset({"day", "cards_in", "cards_in_out"}),
    "coverage": frozenset({"headcount_id", "from", "to", "source", "people_counted",
                           "people_scanned", "coverage"}),
    "gap": frozenset({"gap_id", "status", "case_id", "from", "to", "flagged_at", "resolved_at"}),
}


def from_mapping(obj: Any) -> ComplianceRecord:
    obj = require_object(obj, "compliance record")
    kind = choice(obj, "kind", frozenset(KINDS)) if "kind" in obj else None
    if kind is None:
        raise InvalidEvent(Reason.MISSING_FIELD, "compliance record: missing field 'kind'")
    required = _FIELDS[kind] | {"kind", "venue_id"}
    check_keys(obj, required, required | {"v"}, f"compliance {kind} record")
    check_version(obj, VERSION, "compliance record")
    venue = identifier(obj, "venue_id")
    if kind == "hour":
        by = require_object(obj["by_method"], "by_method")
        check_keys(by, frozenset(METHODS), frozenset(METHODS), "by_method")
        start = timestamp_ms(obj, "hour")
        if start % HOUR_MS:
            raise InvalidEvent(Reason.BAD_VALUE, "hour must be the start of a UTC hour")
        return HourFigures(venue, start // HOUR_MS, count(obj, "scans_in", BIG),
                           count(obj, "scans_out", BIG), *(count(by, m, BIG) for m in METHODS),
                           count(obj, "cards", BIG), count(obj, "scanners_heard", BIG),
                           count(obj, "heartbeats", BIG))
    if kind == "day":
        return DayFigures(venue, _day(obj), count(obj, "cards_in", BIG),
                          count(obj, "cards_in_out", BIG))
    if kind == "coverage":
        c = Coverage(venue, identifier(obj, "headcount_id"), timestamp_ms(obj, "from"),
                     timestamp_ms(obj, "to"), choice(obj, "source", SOURCES),
                     count(obj, "people_counted", BIG), count(obj, "people_scanned", BIG))
        if obj["coverage"] is not None and type(obj["coverage"]) not in (int, float):
            raise InvalidEvent(Reason.WRONG_TYPE, "coverage must be a number or null")
        return c
    return GapStatus(venue, text(obj, "gap_id", 300, minimum=1), choice(obj, "status", STATUSES),
                     text(obj, "case_id", 128, minimum=1), timestamp_ms(obj, "from"),
                     timestamp_ms(obj, "to"), timestamp_ms(obj, "flagged_at"),
                     optional_timestamp_ms(obj, "resolved_at"))


def _day(obj: dict[str, Any]) -> int:
    value = obj["day"]
    if type(value) is not str or len(value) != 10:
        raise InvalidEvent(Reason.WRONG_TYPE, f"day must be a date YYYY-MM-DD, got {type_name(value)}")
    return parse_ms(f"{value}T00:00:00Z", "day") // DAY_MS


CODEC = json_codec("compliance.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
