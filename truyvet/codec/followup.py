"""Follow-up v1 (schemas/followup.v1.schema.json): where tracers are with one contact of a
case -- not contacted yet, contacted, tested, isolated (the directive's *chưa liên hệ*, *đã liên
hệ*, *đã xét nghiệm*, *cách ly*) -- with who recorded it and when. Topic
``<prefix>.followups.v1``, key = case_id/card_id, compacted: the latest status of each contact
stays (the retention of personal data removes it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from truyvet.codec import json_codec
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    identifier,
    require_object,
    text,
    timestamp_ms,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
STATUSES = ("not_contacted", "contacted", "tested", "isolated")  # in the order work proceeds
_REQUIRED = frozenset({"case_id", "card_id", "status", "by", "at"})
_ALLOWED = _REQUIRED | {"v", "note"}


@dataclass(frozen=True, slots=True)
class FollowUp:
    case_id: str
    card_id: str
    status: str
    by: str  # the principal who recorded it
    at_ms: int
    note: str = ""


def from_mapping(obj: Any) -> FollowUp:
    obj = require_object(obj, "follow-up")
    check_keys(obj, _REQUIRED, _ALLOWED, "follow-up")
    check_version(obj, VERSION, "follow-up")
    return FollowUp(identifier(obj, "case_id"), identifier(obj, "card_id"),
                    choice(obj, "status", STATUSES), text(obj, "by", 128, minimum=1),
                    timestamp_ms(obj, "at"), text(obj, "note", 500) if "note" in obj else "")


def to_mapping(f: FollowUp) -> dict[str, Any]:
    out: dict[str, Any] = {"v": VERSION, "case_id": f.case_id, "card_id": f.card_id,
                           "status": f.status, "by": f.by, "at": format_ms(f.at_ms)}
    if f.note:
        out["note"] = f.note
    return out


def key_of(case_id: str, card_id: str) -> bytes:
    return f"{case_id}/{card_id}".encode()


def key(f: FollowUp) -> bytes:
    return key_of(f.case_id, f.card_id)


CODEC = json_codec("followup.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
