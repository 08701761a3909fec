"""Inspection v1 (schemas/inspection.v1.schema.json): what an inspection team (*đoàn kiểm tra*)
observed at a venue -- scanning points, people counted and scanned -- and the outcome. Topic
``<prefix>.inspections.v1``, key = venue_id, kept a year (evidence for sanctions)."""

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
    optional_identifier,
    optional_timestamp_ms,
    require_object,
    text,
    timestamp_ms,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
OUTCOMES = frozenset({"compliant", "reminded", "suspended", "fined"})
MAX_OBSERVATION_MS = 86_400_000
_REQUIRED = frozenset({"venue_id", "inspector", "observed_from", "observed_to",
                       "scanning_points_observed", "people_counted", "people_scanned", "outcome"})
_ALLOWED = _REQUIRED | {"v", "inspection_id", "campaign_id", "notes", "recorded_at"}


@dataclass(frozen=True, slots=True)
class Inspection:
    venue_id: str
    inspector: str
    observed_from_ms: int
    observed_to_ms: int
    scanning_points_observed: int
    people_counted: int
    people_scanned: int
    outcome: str
    inspection_id: str | None = None
    campaign_id: str | None = None
    notes: str = ""
    recorded_at_ms: int | None = None


def from_mapping(obj: Any) -> Inspection:
    obj = require_object(obj, "inspection")
    check_keys(obj, _REQUIRED, _ALLOWED, "inspection")
    check_version(obj, VERSION, "inspection")
    i = Inspection(
        venue_id=identifier(obj, "venue_id"), inspector=identifier(obj, "inspector"),
        observed_from_ms=timestamp_ms(obj, "observed_from"),
        observed_to_ms=timestamp_ms(obj, "observed_to"),
        scanning_points_observed=count(obj, "scanning_points_observed", 1000),
        people_counted=count(obj, "people_counted", 100_000),
        people_scanned=count(obj, "people_scanned", 100_000),
        outcome=choice(obj, "outcome", OUTCOMES),
        inspection_id=optional_identifier(obj, "inspection_id"),
        campaign_id=optional_identifier(obj, "campaign_id"),
        notes=text(obj, "notes", 2000) if "notes" in obj else "",
        recorded_at_ms=optional_timestamp_ms(obj, "recorded_at") if obj.get("recorded_at") else None,
    )
    if not i.observed_from_ms < i.observed_to_ms <= i.observed_from_ms + MAX_OBSERVATION_MS:
        raise InvalidEvent(Reason.BAD_INTERVAL, "observed_to must be after observed_from, within 24 h")
    if i.people_scanned > i.people_counted:
        raise InvalidEvent(Reason.BAD_VALUE, "people_scanned cannot exceed people_counted")
    return i


def to_mapping(i: Inspection) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": VERSION, "venue_id": i.venue_id, "inspector": i.inspector,
        "observed_from": format_ms(i.observed_from_ms), "observed_to": format_ms(i.observed_to_ms),
        "scanning_points_observed": i.scanning_points_observed,
        "people_counted": i.people_counted, "people_scanned": i.people_scanned,
        "outcome": i.outcome, "notes": i.notes,
    }
    for name in ("inspection_id", "campaign_id"):
        if getattr(i, name) is not None:
            out[name] = getattr(i, name)
    if i.recorded_at_ms is not None:
        out["recorded_at"] = format_ms(i.recorded_at_ms)
    return out


def key(i: Inspection) -> bytes:
    return i.venue_id.encode()


CODEC = json_codec("inspection.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
