"""Gap v1 (schemas/gap.v1.schema.json): a declared visit no scan of the person's card backs,
evidence that the venue did not scan. Topic ``<prefix>.gaps.v1``, key = venue_id; published
``open`` when flagged and ``resolved`` if a late scan (or a corrected itinerary) withdraws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from truyvet.codec import json_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    identifier,
    optional_timestamp_ms,
    require_object,
    text,
    timestamp_ms,
)
from truyvet.codec.itinerary import CLASSIFICATIONS
from truyvet.codec.timefmt import format_ms

VERSION = 1
STATUSES = frozenset({"open", "resolved"})
_REQUIRED = frozenset({"gap_id", "status", "venue_id", "case_id", "classification", "card_id",
                       "from", "to", "flagged_at"})
_ALLOWED = _REQUIRED | {"v", "resolved_at"}


@dataclass(frozen=True, slots=True)
class Gap:
    gap_id: str  # case_id/stop index/venue_id: stable across revisions
    status: str  # open | resolved
    venue_id: str
    case_id: str
    classification: str
    card_id: str
    from_ms: int
    to_ms: int
    flagged_at_ms: int
    resolved_at_ms: int | None = None


def gap_id(case_id: str, stop: int, venue_id: str) -> str:
    return f"{case_id}/{stop}/{venue_id}"


def from_mapping(obj: Any) -> Gap:
    obj = require_object(obj, "gap")
    check_keys(obj, _REQUIRED, _ALLOWED, "gap")
    check_version(obj, VERSION, "gap")
    g = Gap(text(obj, "gap_id", 300, minimum=1), choice(obj, "status", STATUSES),
            identifier(obj, "venue_id"), identifier(obj, "case_id"),
            choice(obj, "classification", CLASSIFICATIONS), identifier(obj, "card_id"),
            timestamp_ms(obj, "from"), timestamp_ms(obj, "to"), timestamp_ms(obj, "flagged_at"),
            optional_timestamp_ms(obj, "resolved_at"))
    if g.to_ms < g.from_ms:
        raise InvalidEvent(Reason.BAD_INTERVAL, "gap: 'to' is before 'from'")
    return g


def to_mapping(g: Gap) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": VERSION, "gap_id": g.gap_id, "status": g.status, "venue_id": g.venue_id,
        "case_id": g.case_id, "classification": g.classification, "card_id": g.card_id,
        "from": format_ms(g.from_ms), "to": format_ms(g.to_ms),
        "flagged_at": format_ms(g.flagged_at_ms),
    }
    if g.resolved_at_ms is not None:
        out["resolved_at"] = format_ms(g.resolved_at_ms)
    return out


def key(g: Gap) -> bytes:
    return g.venue_id.encode()


CODEC = json_codec("gap.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
