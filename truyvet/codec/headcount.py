"""Headcount v1 (schemas/headcount.v1.schema.json): the people counted entering a venue over a
span, by a door counter or an inspector -- the coverage rate's denominator. Topic
``<prefix>.headcounts.v1``, key = venue_id (co-partitioned with the check-ins)."""

from __future__ import annotations

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
    timestamp_ms,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
MAX_SPAN_MS = 86_400_000
SOURCES = frozenset({"door_counter", "inspector"})
_REQUIRED = frozenset({"headcount_id", "venue_id", "from", "to", "people_counted", "source"})
_ALLOWED = _REQUIRED | {"v", "reported_by"}


@dataclass(frozen=True, slots=True)
class Headcount:
    headcount_id: str
    venue_id: str
    from_ms: int
    to_ms: int
    people_counted: int
    source: str  # door_counter | inspector
    reported_by: str | None = None


def from_mapping(obj: Any) -> Headcount:
    obj = require_object(obj, "headcount")
    check_keys(obj, _REQUIRED, _ALLOWED, "headcount", extensible=True)
    check_version(obj, VERSION, "headcount")
    h = Headcount(identifier(obj, "headcount_id"), identifier(obj, "venue_id"),
                  timestamp_ms(obj, "from"), timestamp_ms(obj, "to"),
                  count(obj, "people_counted", 1_000_000), choice(obj, "source", SOURCES),
                  None if obj.get("reported_by") is None else text(obj, "reported_by", 128))
    if not h.from_ms < h.to_ms <= h.from_ms + MAX_SPAN_MS:
        raise InvalidEvent(Reason.BAD_INTERVAL, "headcount: 'to' must be after 'from', within 24 h")
    return h


def to_mapping(h: Headcount) -> dict[str, Any]:
    out: dict[str, Any] = {"v": VERSION, "headcount_id": h.headcount_id, "venue_id": h.venue_id,
                           "from": format_ms(h.from_ms), "to": format_ms(h.to_ms),
                           "people_counted": h.people_counted, "source": h.source}
    if h.reported_by is not None:
        out["reported_by"] = h.reported_by
    return out


def key(h: Headcount) -> bytes:
    return h.venue_id.encode()


CODEC = json_codec("headcount.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
