"""Check-in scan v1: one QR scan of a person's card at a venue entrance or exit.

Schema: ``schemas/checkin.v1.schema.json``. The scanner sets ``event_id`` (unique per scan);
``scanned_at`` is event time and may arrive late or out of order. ``method`` ``venue_qr`` is
the old self-scanned poster the directive bans: accepted here, counted as non-compliant
downstream.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from truyvet.codec import Codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    MAX_ID_LENGTH,
    check_keys,
    check_version,
    choice,
    identifier,
    load_json,
    require_object,
    timestamp_ms,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
DIRECTIONS = frozenset({"in", "out"})
METHODS = frozenset({"card", "app", "venue_qr"})
FIELDS = ("event_id", "card_id", "venue_id", "scanner_id", "direction", "scanned_at", "method")
_REQUIRED = frozenset(FIELDS)
_ALLOWED = _REQUIRED | {"v"}
MAX_BYTES = 4096  # a valid scan is < 1 KiB; anything much larger is garbage


class CheckIn(NamedTuple):
    event_id: str
    card_id: str
    venue_id: str
    scanner_id: str
    direction: str  # "in" | "out"
    scanned_at_ms: int  # event time, epoch milliseconds UTC
    method: str  # "card" | "app" | "venue_qr"


def from_mapping(obj: Any) -> CheckIn:
    """Validate a decoded JSON value (or a CSV row's dict) and build a :class:`CheckIn`.

    A check-in as scanners send it (version 1, ASCII identifiers) is checked in one pass of
    cheap tests; whatever fails any of them is judged field by field by
    :func:`from_mapping_reference`, which says why it is refused. Both accept exactly the same
    objects and build the same check-in (tests/unit/test_fast_paths.py).
    """
    if type(obj) is dict and obj.keys() >= _REQUIRED:
        e, c, v, s = obj["event_id"], obj["card_id"], obj["venue_id"], obj["scanner_id"]
        d, t, m = obj["direction"], obj["scanned_at"], obj["method"]
        if (type(e) is str and type(c) is str and type(v) is str and type(s) is str
                and 0 < len(e) <= MAX_ID_LENGTH and 0 < len(c) <= MAX_ID_LENGTH
                and 0 < len(v) <= MAX_ID_LENGTH and 0 < len(s) <= MAX_ID_LENGTH
                and type(d) is str and d in DIRECTIONS and type(m) is str and m in METHODS
                and type(t) is str and (version := obj.get("v", VERSION)) == VERSION
                and type(version) is int):
            ids = e + c + v + s
            if ids.isascii() and ids.isprintable():  # no control characters
                return CheckIn(e, c, v, s, d, timestamp_ms(obj, "scanned_at"), m)
    return from_mapping_reference(obj)


def from_mapping_reference(obj: Any) -> CheckIn:
    """:func:`from_mapping` field by field, raising for the first field that is wrong."""
    obj = require_object(obj, "check-in")
    check_keys(obj, _REQUIRED, _ALLOWED, "check-in", extensible=True)
    check_version(obj, VERSION, "check-in")
    return CheckIn(
        identifier(obj, "event_id"),
        identifier(obj, "card_id"),
        identifier(obj, "venue_id"),
        identifier(obj, "scanner_id"),
        choice(obj, "direction", DIRECTIONS),
        timestamp_ms(obj, "scanned_at"),
        choice(obj, "method", METHODS),
    )


def decode(raw: bytes) -> CheckIn:
    """Decode and validate one check-in payload. Raises :class:`InvalidEvent`."""
    if len(raw) > MAX_BYTES:
        raise InvalidEvent(Reason.TOO_LARGE, f"{len(raw)} bytes, at most {MAX_BYTES}")
    return from_mapping(load_json(raw))


def to_mapping(scan: CheckIn) -> dict[str, Any]:
    return {
        "v": VERSION,
        "event_id": scan.event_id,
        "card_id": scan.card_id,
        "venue_id": scan.venue_id,
        "scanner_id": scan.scanner_id,
        "direction": scan.direction,
        "scanned_at": format_ms(scan.scanned_at_ms),
        "method": scan.method,
    }


def encode(scan: CheckIn) -> bytes:
    return orjson.dumps(to_mapping(scan))


def key(scan: CheckIn) -> bytes:
    return scan.venue_id.encode()


CODEC = Codec("checkin.v1", encode, decode, key)
