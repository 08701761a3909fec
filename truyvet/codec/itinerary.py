"""Itinerary v1: the visits a case declares (schemas/itinerary.v1.schema.json).

Accepted as the body of POST /api/v1/itineraries and read back from the itineraries topic,
where the API adds who may see the case (``opened_by``, its owner; ``shared_with``) and when
its current stops were submitted (``submitted_at``: its retention runs from it). Times may
carry any offset; internally they are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from truyvet.codec import Codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    element,
    identifier,
    load_json,
    require_object,
    timestamp_ms,
    type_name,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
MAX_STOPS = 200
MAX_STOP_MS = 7 * 86_400_000  # a declared stop longer than a week is a typing error
MAX_BYTES = 256 * 1024
CLASSIFICATIONS = frozenset({"F0", "F1"})
_REQUIRED = frozenset({"case_id", "classification", "stops"})
API_FIELDS = ("submitted_at", "submitted_by", "opened_by", "team", "shared_with")  # set by the API
_ALLOWED = _REQUIRED | {"v", "card_id", *API_FIELDS}
MAX_SHARED = 50
_STOP_FIELDS = frozenset({"venue_id", "from", "to"})


@dataclass(frozen=True, slots=True)
class Stop:
    venue_id: str
    from_ms: int
    to_ms: int


@dataclass(frozen=True, slots=True)
class Itinerary:
    case_id: str
    classification: str
    card_id: str | None
    stops: tuple[Stop, ...]
    submitted_at_ms: int | None = None  # when its current stops were submitted
    submitted_by: str | None = None  # the principal who submitted this version
    opened_by: str | None = None  # the principal who opened the case: its owner
    shared_with: tuple[str, ...] = ()  # other principals a supervisor let see it
    team: str | None = None  # the opener's team, when teams own cases (TRUYVET_CASE_OWNER)

    @property
    def owner(self) -> str | None:
        return self.opened_by or self.submitted_by  # records from before owners were kept


def from_mapping(obj: Any) -> Itinerary:
    obj = require_object(obj, "itinerary")
    check_keys(obj, _REQUIRED, _ALLOWED, "itinerary")
    check_version(obj, VERSION, "itinerary")
    case_id = identifier(obj, "case_id")
    classification = choice(obj, "classification", CLASSIFICATIONS)
    card_id = None if obj.get("card_id") is None else identifier(obj, "card_id")
    stops_raw = obj["stops"]
    if type(stops_raw) is not list:
        raise InvalidEvent(Reason.WRONG_TYPE, f"stops must be an array, got {type_name(stops_raw)}")
    if not 1 <= len(stops_raw) <= MAX_STOPS:
        raise InvalidEvent(Reason.BAD_VALUE, f"stops has {len(stops_raw)} items, 1..{MAX_STOPS} allowed")
    stops = tuple(_stop(i, s) for i, s in enumerate(stops_raw))
    submitted_at = None if obj.get("submitted_at") is None else timestamp_ms(obj, "submitted_at")
    submitted_by, opened_by = _principal(obj, "submitted_by"), _principal(obj, "opened_by")
    shared = obj.get("shared_with", [])
    if type(shared) is not list or len(shared) > MAX_SHARED:
        raise InvalidEvent(Reason.WRONG_TYPE, f"shared_with must be an array of at most "
                                              f"{MAX_SHARED} principals")
    shared_with = tuple(_principal({"shared_with": n}, "shared_with") for n in shared)
    return Itinerary(case_id, classification, card_id, stops, submitted_at, submitted_by,
                     opened_by, shared_with, _principal(obj, "team"))  # type: ignore[arg-type]


def _principal(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is not None and (type(value) is not str or not 1 <= len(value) <= 128):
        raise InvalidEvent(Reason.WRONG_TYPE, f"{name} must be a principal's name (a string of "
                                              f"1 to 128 characters)")
    return value


def _stop(i: int, raw: Any) -> Stop:
    where = f"stops[{i}]"
    stop = element(raw, where, _STOP_FIELDS, lambda s: Stop(
        identifier(s, "venue_id"), timestamp_ms(s, "from"), timestamp_ms(s, "to")))
    if stop.to_ms < stop.from_ms:
        raise InvalidEvent(Reason.BAD_INTERVAL, f"{where}: 'to' is before 'from'")
    if stop.to_ms - stop.from_ms > MAX_STOP_MS:
        raise InvalidEvent(Reason.BAD_INTERVAL, f"{where}: longer than 7 days")
    return stop


def decode(raw: bytes) -> Itinerary:
    if len(raw) > MAX_BYTES:
        raise InvalidEvent(Reason.TOO_LARGE, f"{len(raw)} bytes, at most {MAX_BYTES}")
    return from_mapping(load_json(raw))


def to_mapping(it: Itinerary) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": VERSION,
        "case_id": it.case_id,
        "classification": it.classification,
        "card_id": it.card_id,
        "stops": [{"venue_id": s.venue_id, "from": format_ms(s.from_ms), "to": format_ms(s.to_ms)}
                  for s in it.stops],
    }
    if it.submitted_at_ms is not None:
        out["submitted_at"] = format_ms(it.submitted_at_ms)
    if it.submitted_by is not None:
        out["submitted_by"] = it.submitted_by
    if it.opened_by is not None:
        out["opened_by"] = it.opened_by
    if it.shared_with:
        out["shared_with"] = list(it.shared_with)
    if it.team is not None:
        out["team"] = it.team
    return out


def encode(it: Itinerary) -> bytes:
    return orjson.dumps(to_mapping(it))


def key(it: Itinerary) -> bytes:
    return it.case_id.encode()


CODEC = Codec("itinerary.v1", encode, decode, key)
