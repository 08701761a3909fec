"""Inspection v1 and inspection campaign v1 (schemas/inspection.v1, schemas/campaign.v1)."""

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
    optional_identifier,
    require_object,
    timestamp_ms,
    type_name,
)
from truyvet.codec.timefmt import format_ms
from truyvet.codec.venue import CATEGORIES

VERSION = 1
OUTCOMES = frozenset({"compliant", "reminded", "suspended", "fined"})
MAX_OBSERVATION_MS = 86_400_000
_I_REQUIRED = frozenset({"venue_id", "inspector", "observed_from", "observed_to",
                         "scanning_points_observed", "people_counted", "people_scanned", "outcome"})
_I_ALLOWED = _I_REQUIRED | {"v", "inspection_id", "campaign_id", "notes", "recorded_at"}
_C_REQUIRED = frozenset({"campaign_id", "name", "from", "to", "categories"})
_C_ALLOWED = _C_REQUIRED | {"v", "districts"}


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


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    name: str
    from_ms: int
    to_ms: int
    categories: tuple[str, ...]
    districts: tuple[str, ...] = ()


def inspection_from_mapping(obj: Any) -> Inspection:
    obj = require_object(obj, "inspection")
    check_keys(obj, _I_REQUIRED, _I_ALLOWED, "inspection")
    check_version(obj, VERSION, "inspection")
    notes = obj.get("notes", "")
    if type(notes) is not str or len(notes) > 2000:
        raise InvalidEvent(Reason.WRONG_TYPE, "notes must be a string of at most 2000 characters")
    i = Inspection(
        venue_id=identifier(obj, "venue_id"), inspector=identifier(obj, "inspector"),
        observed_from_ms=timestamp_ms(obj, "observed_from"),
        observed_to_ms=timestamp_ms(obj, "observed_to"),
        scanning_points_observed=_count(obj, "scanning_points_observed", 1000),
        people_counted=_count(obj, "people_counted", 100_000),
        people_scanned=_count(obj, "people_scanned", 100_000),
        outcome=choice(obj, "outcome", OUTCOMES),
        inspection_id=optional_identifier(obj, "inspection_id"),
        campaign_id=optional_identifier(obj, "campaign_id"), notes=notes,
        recorded_at_ms=timestamp_ms(obj, "recorded_at") if obj.get("recorded_at") else None,
    )
    if not i.observed_from_ms < i.observed_to_ms <= i.observed_from_ms + MAX_OBSERVATION_MS:
        raise InvalidEvent(Reason.BAD_INTERVAL, "observed_to must be after observed_from, within 24 h")
    if i.people_scanned > i.people_counted:
        raise InvalidEvent(Reason.BAD_VALUE, "people_scanned cannot exceed people_counted")
    return i


def inspection_to_mapping(i: Inspection) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": VERSION, "venue_id": i.venue_id, "inspector": i.inspector,
        "observed_from": format_ms(i.observed_from_ms), "observed_to": format_ms(i.observed_to_ms),
        "scanning_points_observed": i.scanning_points_observed,
        "people_counted": i.people_counted, "people_scanned": i.people_scanned,
        "outcome": i.outcome, "notes": i.notes,
    }
    for key in ("inspection_id", "campaign_id"):
        if getattr(i, key) is not None:
            out[key] = getattr(i, key)
    if i.recorded_at_ms is not None:
        out["recorded_at"] = format_ms(i.recorded_at_ms)
    return out


def campaign_from_mapping(obj: Any) -> Campaign:
    obj = require_object(obj, "campaign")
    check_keys(obj, _C_REQUIRED, _C_ALLOWED, "campaign")
    check_version(obj, VERSION, "campaign")
    name = obj["name"]
    if type(name) is not str or not 1 <= len(name) <= 200:
        raise InvalidEvent(Reason.BAD_VALUE, "name must be a string of 1..200 characters")
    cats = _strings(obj, "categories", minimum=1)
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise InvalidEvent(Reason.BAD_ENUM, f"categories: unknown {unknown[:3]}")
    c = Campaign(identifier(obj, "campaign_id"), name, timestamp_ms(obj, "from"),
                 timestamp_ms(obj, "to"), tuple(cats), tuple(_strings(obj, "districts")))
    if c.to_ms <= c.from_ms:
        raise InvalidEvent(Reason.BAD_INTERVAL, "'to' must be after 'from'")
    return c


def campaign_to_mapping(c: Campaign) -> dict[str, Any]:
    out: dict[str, Any] = {"v": VERSION, "campaign_id": c.campaign_id, "name": c.name,
                           "from": format_ms(c.from_ms), "to": format_ms(c.to_ms),
                           "categories": list(c.categories)}
    if c.districts:
        out["districts"] = list(c.districts)
    return out


def decode_inspection(raw: bytes) -> Inspection:
    return inspection_from_mapping(load_json(raw))


def decode_campaign(raw: bytes) -> Campaign:
    return campaign_from_mapping(load_json(raw))


def encode(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(obj)


def _count(obj: dict[str, Any], key: str, maximum: int) -> int:
    value = obj[key]
    if type(value) is not int:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be an integer, got {type_name(value)}")
    if not 0 <= value <= maximum:
        raise InvalidEvent(Reason.BAD_VALUE, f"{key}={value} outside 0..{maximum}")
    return value


def _strings(obj: dict[str, Any], key: str, minimum: int = 0) -> list[str]:
    value = obj.get(key, [])
    if type(value) is not list or not all(type(x) is str and 0 < len(x) <= 100 for x in value):
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a list of non-empty strings")
    if len(value) < minimum or len(set(value)) != len(value):
        raise InvalidEvent(Reason.BAD_VALUE, f"{key}: at least {minimum}, no repeats")
    return value
