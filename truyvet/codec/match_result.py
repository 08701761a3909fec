"""Match result v1 (schemas/match-result.v1.schema.json): the answer to an itinerary, per stop
in submitted order -- whether a scan of the person's card backs it (else a gap) and who was
co-present. The body of the API's itinerary answers, and every revision on topic
``<prefix>.match-results.v1`` (key = case_id, compacted: the latest stays; record headers
``itinerary``, the offset of the itinerary version it answers, and ``revision``:
``truyvet.api.tracing.board``).

Answers at busy venues list thousands of contacts: :func:`encode_parts` takes each stop's
contacts already written as a JSON array (``truyvet.domain.matching.cards`` writes them with
array copies), so no Python object is made per contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from truyvet.codec import Codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    boolean,
    check_keys,
    check_version,
    choice,
    count,
    identifier,
    load_json,
    require_object,
    timestamp_ms,
    type_name,
)
from truyvet.codec.itinerary import CLASSIFICATIONS
from truyvet.codec.timefmt import format_ms

VERSION = 1
_REQUIRED = frozenset({"case_id", "stops"})
_ALLOWED = _REQUIRED | {"v", "classification", "card_id", "revision", "computed_at"}
_STOP = frozenset({"venue_id", "from", "to", "verified", "gap", "contacts"})
_CONTACT = frozenset({"card_id", "overlap_s", "close_contact"})


@dataclass(frozen=True, slots=True)
class Contact:
    card_id: str
    overlap_s: int  # seconds of the stop the card was present too (>= 1)
    close_contact: bool


@dataclass(frozen=True, slots=True)
class StopAnswer:
    venue_id: str
    from_ms: int
    to_ms: int
    verified: bool | None  # None: the itinerary has no card
    gap: bool
    contacts: tuple[Contact, ...]  # by overlap_s descending, then card_id


@dataclass(frozen=True, slots=True)
class MatchResult:
    case_id: str
    classification: str
    card_id: str | None
    revision: int
    computed_at_ms: int
    stops: tuple[StopAnswer, ...]


def _head(case_id: str, classification: str, card_id: str | None, revision: int,
          computed_at_ms: int) -> bytes:
    return orjson.dumps({"v": VERSION, "case_id": case_id, "classification": classification,
                         "card_id": card_id, "revision": revision,
                         "computed_at": format_ms(computed_at_ms)})


def _stop_head(venue_id: str, from_ms: int, to_ms: int, verified: bool | None, gap: bool) -> bytes:
    return orjson.dumps({"venue_id": venue_id, "from": format_ms(from_ms), "to": format_ms(to_ms),
                         "verified": verified, "gap": gap})


def encode_parts(case_id: str, classification: str, card_id: str | None, revision: int,
                 computed_at_ms: int,
                 stops: Iterable[tuple[str, int, int, bool | None, bool, bytes]]) -> bytes:
    """The JSON of a result whose stops' contacts are given already encoded:
    ``(venue_id, from_ms, to_ms, verified, gap, contacts JSON array)`` per stop."""
    # one join of every piece: each concatenation would copy the megabyte of contacts again
    pieces = [_head(case_id, classification, card_id, revision, computed_at_ms)[:-1],
              b',"stops":[']
    for v, f, t, ver, gap, contacts in stops:
        pieces += (_stop_head(v, f, t, ver, gap)[:-1], b',"contacts":', contacts, b"},")
    if len(pieces) > 2:
        pieces[-1] = b"}"
    pieces.append(b"]}")
    return b"".join(pieces)


def encode(r: MatchResult) -> bytes:
    return encode_parts(r.case_id, r.classification, r.card_id, r.revision, r.computed_at_ms, (
        (s.venue_id, s.from_ms, s.to_ms, s.verified, s.gap, orjson.dumps(
            [{"card_id": c.card_id, "overlap_s": c.overlap_s, "close_contact": c.close_contact}
             for c in s.contacts])) for s in r.stops))


def from_mapping(obj: Any) -> MatchResult:
    obj = require_object(obj, "match result")
    check_keys(obj, _REQUIRED, _ALLOWED, "match result")
    check_version(obj, VERSION, "match result")
    stops = obj["stops"]
    if type(stops) is not list:
        raise InvalidEvent(Reason.WRONG_TYPE, f"stops must be an array, got {type_name(stops)}")
    revision = count(obj, "revision", 2**31) if "revision" in obj else 1
    return MatchResult(
        identifier(obj, "case_id"),
        choice(obj, "classification", CLASSIFICATIONS) if "classification" in obj else "F0",
        None if obj.get("card_id") is None else identifier(obj, "card_id"),
        max(revision, 1), timestamp_ms(obj, "computed_at") if "computed_at" in obj else 0,
        tuple(_stop(i, s) for i, s in enumerate(stops)))


def _stop(i: int, raw: Any) -> StopAnswer:
    where = f"stops[{i}]"
    s = require_object(raw, where)
    check_keys(s, _STOP, _STOP, where)
    contacts = s["contacts"]
    if type(contacts) is not list:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{where}.contacts must be an array")
    return StopAnswer(identifier(s, "venue_id"), timestamp_ms(s, "from"), timestamp_ms(s, "to"),
                      boolean(s, "verified", nullable=True), bool(boolean(s, "gap")),
                      tuple(_contact(where, c) for c in contacts))


def _contact(where: str, raw: Any) -> Contact:
    c = require_object(raw, f"{where}.contacts[]")
    check_keys(c, _CONTACT, _CONTACT, f"{where}.contacts[]")
    overlap = count(c, "overlap_s", 2**40)
    if overlap < 1:
        raise InvalidEvent(Reason.BAD_VALUE, f"{where}: overlap_s must be at least 1")
    return Contact(identifier(c, "card_id"), overlap, bool(boolean(c, "close_contact")))


def decode(raw: bytes) -> MatchResult:
    return from_mapping(load_json(raw))


def head(raw: bytes) -> tuple[int, int] | None:
    """(revision, computed_at ms) of a result written by :func:`encode_parts`, read from the
    part before its stops alone (decoding 14,000 contacts takes ~35 ms); None when it is not
    written so. Nothing else of the result is checked: decode it for that."""
    end = raw.find(b',"stops":[')
    if end < 0:
        return None
    try:
        obj = require_object(orjson.loads(raw[:end] + b"}"), "match result")
        return max(count(obj, "revision", 2**31), 1), timestamp_ms(obj, "computed_at")
    except (orjson.JSONDecodeError, InvalidEvent, KeyError):
        return None


def key(r: MatchResult) -> bytes:
    return r.case_id.encode()


CODEC = Codec("match-result.v1", encode, decode, key)
