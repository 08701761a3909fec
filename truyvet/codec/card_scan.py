"""Scan-by-card v1: a validated check-in as the ingest job forwards it, keyed by card_id.

Internal to the check-in path (topic ``<prefix>.scans-by-card.v1``): a JSON array
``[1, event_id, card_id, venue_id, scanner_id, direction, scanned_at_ms, method]`` with the
time already parsed, so that the visits job and its state rebuilds decode a scan in one
``orjson.loads`` instead of validating it again. Only the ingest job writes it, after full
validation; the decoder still refuses anything else of that shape rather than trusting it.
Schema: schemas/scan-by-card.v1.schema.json.
"""

from __future__ import annotations

import orjson

from truyvet.codec import checkin
from truyvet.codec.checkin import CheckIn
from truyvet.codec import Codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import load_json

VERSION = 1
_DIRECTIONS = ("in", "out")


def encode(c: CheckIn) -> bytes:
    return orjson.dumps([VERSION, c.event_id, c.card_id, c.venue_id, c.scanner_id, c.direction,
                         c.scanned_at_ms, c.method])


def decode(raw: bytes) -> CheckIn:
    """A scan-by-card record; a check-in v1 object (what ingest forwarded before this format
    existed, e.g. during a rolling upgrade) is read too, with full validation."""
    obj = load_json(raw)
    if type(obj) is list and len(obj) == 8:
        version, event_id, card_id, venue_id, scanner_id, direction, at_ms, method = obj
        if (version == VERSION and type(at_ms) is int and type(event_id) is str
                and type(card_id) is str and type(venue_id) is str and type(scanner_id) is str
                and type(direction) is str and direction in _DIRECTIONS):
            return CheckIn(event_id, card_id, venue_id, scanner_id, direction, at_ms, method)
    elif type(obj) is dict:
        return checkin.from_mapping(obj)
    raise InvalidEvent(Reason.BAD_VALUE, f"not a scan-by-card v{VERSION} record")


def key(c: CheckIn) -> bytes:
    return c.card_id.encode()


CODEC = Codec("scan-by-card.v1", encode, decode, key)
