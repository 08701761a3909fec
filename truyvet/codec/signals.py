"""What venues report besides scans: scanner heartbeats and headcounts (schemas/heartbeat.v1,
schemas/headcount.v1). Both are keyed by venue_id, co-partitioned with the check-ins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    identifier,
    load_json,
    require_object,
    timestamp_ms,
    type_name,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
MAX_HEADCOUNT_SPAN_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Heartbeat:
    scanner_id: str
    venue_id: str
    sent_at_ms: int
    battery_pct: int | None = None
    queued_scans: int | None = None


@dataclass(frozen=True, slots=True)
class Headcount:
    headcount_id: str
    venue_id: str
    from_ms: int
    to_ms: int
    people_counted: int
    source: str  # door_counter | inspector
    reported_by: str | None = None


_HB_REQUIRED = frozenset({"scanner_id", "venue_id", "sent_at"})
_HB_ALLOWED = _HB_REQUIRED | {"v", "battery_pct", "queued_scans"}
_HC_REQUIRED = frozenset({"headcount_id", "venue_id", "from", "to", "people_counted", "source"})
_HC_ALLOWED = _HC_REQUIRED | {"v", "reported_by"}


def heartbeat_from_mapping(obj: Any) -> Heartbeat:
    obj = require_object(obj, "heartbeat")
    check_keys(obj, _HB_REQUIRED, _HB_ALLOWED, "heartbeat")
    check_version(obj, VERSION, "heartbeat")
    return Heartbeat(identifier(obj, "scanner_id"), identifier(obj, "venue_id"),
                     timestamp_ms(obj, "sent_at"), _int(obj, "battery_pct", 100, True),
                     _int(obj, "queued_scans", 10_000_000, True))


def headcount_from_mapping(obj: Any) -> Headcount:
    obj = require_object(obj, "headcount")
    check_keys(obj, _HC_REQUIRED, _HC_ALLOWED, "headcount")
    check_version(obj, VERSION, "headcount")
    h = Headcount(identifier(obj, "headcount_id"), identifier(obj, "venue_id"),
                  timestamp_ms(obj, "from"), timestamp_ms(obj, "to"),
                  _int(obj, "people_counted", 1_000_000, False) or 0,
                  choice(obj, "source", frozenset({"door_counter", "inspector"})),
                  None if obj.get("reported_by") is None else _text(obj, "reported_by"))
    if not h.from_ms < h.to_ms <= h.from_ms + MAX_HEADCOUNT_SPAN_MS:
        raise InvalidEvent(Reason.BAD_INTERVAL, "headcount: 'to' must be after 'from', within 24 h")
    return h


def decode_heartbeat(raw: bytes) -> Heartbeat:
    return heartbeat_from_mapping(load_json(raw))


def decode_headcount(raw: bytes) -> Headcount:
    return headcount_from_mapping(load_json(raw))


def encode_heartbeat(h: Heartbeat) -> bytes:
    out: dict[str, Any] = {"v": VERSION, "scanner_id": h.scanner_id, "venue_id": h.venue_id,
                           "sent_at": format_ms(h.sent_at_ms)}
    if h.battery_pct is not None:
        out["battery_pct"] = h.battery_pct
    if h.queued_scans is not None:
        out["queued_scans"] = h.queued_scans
    return orjson.dumps(out)


def encode_headcount(h: Headcount) -> bytes:
    out: dict[str, Any] = {"v": VERSION, "headcount_id": h.headcount_id, "venue_id": h.venue_id,
                           "from": format_ms(h.from_ms), "to": format_ms(h.to_ms),
                           "people_counted": h.people_counted, "source": h.source}
    if h.reported_by is not None:
        out["reported_by"] = h.reported_by
    return orjson.dumps(out)


def _int(obj: dict[str, Any], key: str, maximum: int, optional: bool) -> int | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if type(value) is not int:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be an integer, got {type_name(value)}")
    if not 0 <= value <= maximum:
        raise InvalidEvent(Reason.BAD_VALUE, f"{key}={value} outside 0..{maximum}")
    return value


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj[key]
    if type(value) is not str or len(value) > 128:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a string of at most 128 characters")
    return value
