"""Alert v1 (schemas/alert.v1.schema.json): a venue that does not scan properly, or a cluster of
F0 cases there (kind ``cluster``, raised by the API).
Topic ``<prefix>.alerts.v1``, key = alert_id (compacted: one record per alert), partitioned
by venue_id (the compliance job sets the partition)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


from truyvet.codec import json_codec
from truyvet.codec.errors import InvalidEvent, Reason
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
KINDS = frozenset({"low_coverage", "silent", "silent_entrance", "venue_qr", "gaps", "cluster"})
COMPLIANCE_KINDS = KINDS - {"cluster"}  # what a venue did wrong (a cluster is not its doing)
_REQUIRED = frozenset({"alert_id", "venue_id", "kind", "raised_at", "detail"})
_ALLOWED = _REQUIRED | {"v", "facts"}


@dataclass(frozen=True)
class Alert:
    alert_id: str  # venue_id/kind/discriminator: an alert is raised once
    venue_id: str
    kind: str  # low_coverage | silent | silent_entrance | venue_qr | gaps | cluster
    raised_at_ms: int
    detail: str  # in English; the numbers are in facts
    facts: dict[str, int | str] = field(default_factory=dict)  # for wording in any language


def from_mapping(obj: Any) -> Alert:
    obj = require_object(obj, "alert")
    check_keys(obj, _REQUIRED, _ALLOWED, "alert")
    check_version(obj, VERSION, "alert")
    facts = obj.get("facts", {})
    if type(facts) is not dict or not all(type(v) in (int, str) for v in facts.values()):
        raise InvalidEvent(Reason.WRONG_TYPE, "facts must be an object of integers and strings")
    return Alert(text(obj, "alert_id", 300, minimum=1), identifier(obj, "venue_id"),
                 choice(obj, "kind", KINDS), timestamp_ms(obj, "raised_at"),
                 text(obj, "detail", 2000), dict(facts))


def to_mapping(a: Alert) -> dict[str, Any]:
    return {"v": VERSION, "alert_id": a.alert_id, "venue_id": a.venue_id, "kind": a.kind,
            "raised_at": format_ms(a.raised_at_ms), "detail": a.detail, "facts": a.facts}


def key(a: Alert) -> bytes:
    return a.alert_id.encode()


CODEC = json_codec("alert.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
