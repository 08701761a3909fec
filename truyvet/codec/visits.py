"""Visit bucket v1: one card's visits at one venue that start on one (UTC) day.

Topic ``<prefix>.visits.v1`` (compacted): key ``venue_id \\x1f day \\x1f card_id`` (the unit
separator cannot occur in identifiers), value the JSON below, or null when the card no longer
has visits there (a tombstone). Partitioned by venue (murmur2), record timestamp = the end of
the bucket's last visit (a tombstone: when written), so that time-based retention follows
event time. Schema: schemas/visits.v1.schema.json.
"""

from __future__ import annotations

from typing import Any

import orjson

from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import load_json, require_object

VERSION = 1
SEP = "\x1f"


def encode_key(venue: str, day: int, card: str) -> bytes:
    return f"{venue}{SEP}{day}{SEP}{card}".encode()


def encode_value(venue: str, day: int, card: str, visits: Any) -> bytes | None:
    if not visits:
        return None
    return orjson.dumps({"v": VERSION, "venue_id": venue, "day": day, "card_id": card,
                         "visits": [[s, e] for s, e in visits]})


def decode(key: bytes | None, value: bytes | None) -> tuple[str, int, str, list[tuple[int, int]]]:
    """(venue, day, card, visits); a tombstone gives an empty list."""
    if key is None:
        raise InvalidEvent(Reason.MISSING_FIELD, "visit bucket without a key")
    try:
        venue, day_text, card = key.decode().split(SEP)
        day = int(day_text)
    except (UnicodeDecodeError, ValueError):
        raise InvalidEvent(Reason.BAD_VALUE, f"visit bucket key {key[:80]!r}") from None
    if value is None:
        return venue, day, card, []
    obj = require_object(load_json(value), "visit bucket")
    visits = obj.get("visits")
    if type(visits) is not list:
        raise InvalidEvent(Reason.BAD_VALUE, "visits must be [[start, end], ...]")
    out = []
    for pair in visits:  # a plain loop: this runs for every visit of an index rebuild
        if type(pair) is not list or len(pair) != 2:
            raise InvalidEvent(Reason.BAD_VALUE, "visits must be [[start, end], ...]")
        start, end = pair
        if type(start) is not int or type(end) is not int or not 0 <= start <= end:
            raise InvalidEvent(Reason.BAD_VALUE, f"visit {pair!r}: need integers 0 <= start <= end")
        out.append((start, end))
    return venue, day, card, out
