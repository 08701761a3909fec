"""Inspection campaign v1 (schemas/campaign.v1.schema.json): the directive's inspection week
(*Tuần cao điểm*) -- a period, the venue categories (and districts) it targets. Topic
``<prefix>.campaigns.v1``, compacted, key = campaign_id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from truyvet.codec import json_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    identifier,
    require_object,
    strings,
    timestamp_ms,
)
from truyvet.codec.timefmt import format_ms
from truyvet.codec.venue import CATEGORIES

VERSION = 1
_REQUIRED = frozenset({"campaign_id", "name", "from", "to", "categories"})
_ALLOWED = _REQUIRED | {"v", "districts"}


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    name: str
    from_ms: int
    to_ms: int
    categories: tuple[str, ...]
    districts: tuple[str, ...] = ()


def from_mapping(obj: Any) -> Campaign:
    obj = require_object(obj, "campaign")
    check_keys(obj, _REQUIRED, _ALLOWED, "campaign")
    check_version(obj, VERSION, "campaign")
    name = obj["name"]
    if type(name) is not str or not 1 <= len(name) <= 200:
        raise InvalidEvent(Reason.BAD_VALUE, "name must be a string of 1..200 characters")
    cats = strings(obj, "categories", minimum=1)
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise InvalidEvent(Reason.BAD_ENUM, f"categories: unknown {unknown[:3]}")
    c = Campaign(identifier(obj, "campaign_id"), name, timestamp_ms(obj, "from"),
                 timestamp_ms(obj, "to"), tuple(cats), tuple(strings(obj, "districts")))
    if c.to_ms <= c.from_ms:
        raise InvalidEvent(Reason.BAD_INTERVAL, "'to' must be after 'from'")
    return c


def to_mapping(c: Campaign) -> dict[str, Any]:
    out: dict[str, Any] = {"v": VERSION, "campaign_id": c.campaign_id, "name": c.name,
                           "from": format_ms(c.from_ms), "to": format_ms(c.to_ms),
                           "categories": list(c.categories)}
    if c.districts:
        out["districts"] = list(c.districts)
    return out


def key(c: Campaign) -> bytes:
    return c.campaign_id.encode()


CODEC = json_codec("campaign.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
