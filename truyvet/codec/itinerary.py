"""Itinerary v1: the visits a case declares (schemas/itinerary.v1.schema.json).

Accepted as the body of POST /api/v1/itineraries and read back from the itineraries topic.
Times may carry any offset; internally they are epoch milliseconds.
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
_ALLOWED = _REQUIRED | {"v", "card_id", "submitted_at", "submitted_by"}
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
    submitted_at_ms: int | None = None
    submitted_by: str | None = None


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
    submitted_by = obj.get("submitted_by")
    if submitted_by is not None and (type(submitted_by) is not str or len(submitted_by) > 128):
        raise InvalidEvent(Reason.WRONG_TYPE, "submitted_by must be a string of at most 128 characters")
    return Itinerary(case_id, classification, card_id, stops, submitted_at, submitted_by)


def _stop(i: int, raw: Any) -> Stop:
    where = f"stops[{i}]"
    try:
        s = require_object(raw, where)
        check_keys(s, _STOP_FIELDS, _STOP_FIELDS, where)
        stop = Stop(identifier(s, "venue_id"), timestamp_ms(s, "from"), timestamp_ms(s, "to"))
    except InvalidEvent as exc:
        raise InvalidEvent(exc.reason, f"{where}: {exc.detail}") from None
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
    return out


def encode(it: Itinerary) -> bytes:
    return orjson.dumps(to_mapping(it))


def key(it: Itinerary) -> bytes:
    return it.case_id.encode()


CODEC = Codec("itinerary.v1", encode, decode, key)
