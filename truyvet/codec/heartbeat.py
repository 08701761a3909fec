"""Scanner heartbeat v1 (schemas/heartbeat.v1.schema.json): a scanner saying it is on, while
its venue is open. Topic ``<prefix>.heartbeats.v1``, key = venue_id (co-partitioned with the
check-ins); the record's time is when the device sent it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from truyvet.codec import json_codec
from truyvet.codec.fields import (
    check_keys,
    check_version,
    identifier,
    optional_count,
    require_object,
    timestamp_ms,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
_REQUIRED = frozenset({"scanner_id", "venue_id", "sent_at"})
_ALLOWED = _REQUIRED | {"v", "battery_pct", "queued_scans"}


@dataclass(frozen=True, slots=True)
class Heartbeat:
    scanner_id: str
    venue_id: str
    sent_at_ms: int
    battery_pct: int | None = None
    queued_scans: int | None = None


def from_mapping(obj: Any) -> Heartbeat:
    obj = require_object(obj, "heartbeat")
    check_keys(obj, _REQUIRED, _ALLOWED, "heartbeat", extensible=True)
    check_version(obj, VERSION, "heartbeat")
    return Heartbeat(identifier(obj, "scanner_id"), identifier(obj, "venue_id"),
                     timestamp_ms(obj, "sent_at"), optional_count(obj, "battery_pct", 100),
                     optional_count(obj, "queued_scans", 10_000_000))


def to_mapping(h: Heartbeat) -> dict[str, Any]:
    out: dict[str, Any] = {"v": VERSION, "scanner_id": h.scanner_id, "venue_id": h.venue_id,
                           "sent_at": format_ms(h.sent_at_ms)}
    if h.battery_pct is not None:
        out["battery_pct"] = h.battery_pct
    if h.queued_scans is not None:
        out["queued_scans"] = h.queued_scans
    return out


def key(h: Heartbeat) -> bytes:
    return h.venue_id.encode()


CODEC = json_codec("heartbeat.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
