"""Visit bucket v1 (schemas/visits.v1.schema.json): one card's visits at one venue that start on
one (UTC) day.

Topic ``<prefix>.visits.v1`` (compacted): key ``venue_id \\x1f day \\x1f card_id`` (the unit
separator cannot occur in identifiers), value the JSON below, or null when the card no longer
has visits there (a tombstone). Partitioned by venue (murmur2), record timestamp = the end of
the bucket's last visit (a tombstone: when written), so that time-based retention follows
event time. The tracer API's index is rebuilt from this topic alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import orjson

from truyvet.codec import Codec, native
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import identifier, load_json, require_object

VERSION = 1
SEP = "\x1f"
FIRST_DAY = 18_262  # 2020-01-01
MAX_TIME_S = 0xFFFF_FFFF  # the index holds times as uint32 seconds (to 2106)
MAX_DAY = 2**31 - 1  # and days as int32


class Bucket(NamedTuple):
    """The new content of one (venue, day, card) bucket; no visits: the bucket is deleted."""

    venue: str
    day: int  # start_s // 86400 (UTC days)
    card: str
    visits: Sequence[tuple[int, int]]  # (start, end) epoch seconds, sorted


def encode_key(venue: str, day: int, card: str) -> bytes:
    return f"{venue}{SEP}{day}{SEP}{card}".encode()


def key(b: Bucket) -> bytes:
    return encode_key(b.venue, b.day, b.card)


def encode(b: Bucket) -> bytes | None:
    """The value; None (a tombstone) when the bucket has no visits any more."""
    if not b.visits:
        return None
    visits = b.visits  # tuples and lists are both written as JSON arrays
    if type(visits) is not tuple and type(visits) is not list:
        visits = [[s, e] for s, e in visits]
    return orjson.dumps({"v": VERSION, "venue_id": b.venue, "day": b.day, "card_id": b.card,
                         "visits": visits})


def decode(value: bytes) -> Bucket:
    """A bucket from its value alone (the value repeats the key's fields)."""
    obj = require_object(load_json(value), "visit bucket")
    day = obj.get("day")
    if type(day) is not int or day < FIRST_DAY:
        raise InvalidEvent(Reason.BAD_VALUE, f"day must be an integer >= {FIRST_DAY}")
    visits = _visits(obj)
    if not visits:
        raise InvalidEvent(Reason.BAD_VALUE, "a bucket's value lists at least one visit")
    return Bucket(identifier(obj, "venue_id"), day, identifier(obj, "card_id"), visits)


def decode_record(key: bytes | None, value: bytes | None) -> Bucket:
    """A bucket from a record of the topic; a tombstone gives no visits. The key is the
    authority on which bucket it is (the index's rebuild runs this for every record)."""
    if key is None:
        raise InvalidEvent(Reason.MISSING_FIELD, "visit bucket without a key")
    try:
        venue, day_text, card = key.decode().split(SEP)
        day = int(day_text)
    except (UnicodeDecodeError, ValueError):
        raise InvalidEvent(Reason.BAD_VALUE, f"visit bucket key {key[:80]!r}") from None
    if not 0 <= day <= MAX_DAY:
        raise InvalidEvent(Reason.BAD_VALUE, f"visit bucket key {key[:80]!r}: day out of range")
    if value is None:
        return Bucket(venue, day, card, [])
    return Bucket(venue, day, card, _visits(require_object(load_json(value), "visit bucket")))


def decode_records(keys: Sequence[bytes | None], values: Sequence[bytes | None]) -> list[Bucket]:
    """:func:`decode_record` of each record, those in the form the visits job writes read by
    the compiled core when it is built (the rest, and every refusal, by
    :func:`decode_record`, which raises on the first record it refuses)."""
    if native.core is None:
        return [decode_record(k, v) for k, v in zip(keys, values, strict=True)]
    read = native.core.read_visit_records(list(keys), list(values), Bucket)
    return [b if b is not None else decode_record(k, v)
            for b, k, v in zip(read, keys, values, strict=True)]


def _visits(obj: dict) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    visits = obj.get("visits")
    if type(visits) is not list:
        raise InvalidEvent(Reason.BAD_VALUE, "visits must be [[start, end], ...]")
    out = []
    for pair in visits:  # a plain loop: this runs for every visit of an index rebuild
        if type(pair) is not list or len(pair) != 2:
            raise InvalidEvent(Reason.BAD_VALUE, "visits must be [[start, end], ...]")
        start, end = pair
        if type(start) is not int or type(end) is not int or not 0 <= start <= end <= MAX_TIME_S:
            raise InvalidEvent(Reason.BAD_VALUE,
                               f"visit {pair!r}: need integers 0 <= start <= end < 2**32")
        out.append((start, end))
    return out


CODEC: Codec[Bucket] = Codec("visits.v1", encode, decode, key)  # type: ignore[arg-type]
