"""Audit record v1 (schemas/audit.v1.schema.json): one access to personal data through the API
(an itinerary submitted or replaced, a result read or watched, a case shared), with counts,
never the contacts. Topic ``<prefix>.audit.v1``, key = case_id, kept a year."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from truyvet.codec import json_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    choice,
    count,
    require_object,
    text,
    timestamp_ms,
)
from truyvet.codec.timefmt import format_ms

VERSION = 1
ACTIONS = ("submit", "replace", "read", "watch", "share", "expand")
ROLES = frozenset({"tracer", "supervisor", "inspector", "ops", "admin"})
_REQUIRED = frozenset({"audit_id", "at", "principal", "roles", "action", "case_id", "revision",
                       "stops", "contacts"})
_ALLOWED = _REQUIRED | {"v", "client", "previous_revision", "shared_with"}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    audit_id: str
    at_ms: int
    principal: str  # the token's name, never the token
    roles: tuple[str, ...]  # sorted
    action: str  # submit | read | watch
    case_id: str
    revision: int
    stops: int
    contacts: int  # contacts in the result disclosed (all stops)
    client: str | None = None  # the client's address as the API saw it
    previous_revision: int | None = None  # replace: the revision the new version replaced
    shared_with: str | None = None  # share: the principal the case was shared with


def from_mapping(obj: Any) -> AuditRecord:
    obj = require_object(obj, "audit record")
    check_keys(obj, _REQUIRED, _ALLOWED, "audit record")
    check_version(obj, VERSION, "audit record")
    roles = obj["roles"]
    if type(roles) is not list or not roles or len(set(roles)) != len(roles) \
            or not all(r in ROLES for r in roles):
        raise InvalidEvent(Reason.BAD_VALUE, f"roles: distinct values of {', '.join(sorted(ROLES))}")
    return AuditRecord(
        text(obj, "audit_id", 64, minimum=1), timestamp_ms(obj, "at"),
        text(obj, "principal", 64, minimum=1), tuple(roles), choice(obj, "action", ACTIONS),
        text(obj, "case_id", 128, minimum=1), _revision(obj, "revision"),
        count(obj, "stops", 2**31),
        count(obj, "contacts", 2**31),
        text(obj, "client", 128) if obj.get("client") is not None else None,
        _revision(obj, "previous_revision") if obj.get("previous_revision") is not None else None,
        text(obj, "shared_with", 128, minimum=1) if obj.get("shared_with") is not None else None)


def _revision(obj: Any, key: str) -> int:
    revision = count(obj, key, 2**31)
    if revision < 1:
        raise InvalidEvent(Reason.BAD_VALUE, f"{key} must be at least 1")
    return revision


def to_mapping(r: AuditRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": VERSION, "audit_id": r.audit_id, "at": format_ms(r.at_ms), "principal": r.principal,
        "roles": list(r.roles), "action": r.action, "case_id": r.case_id,
        "revision": r.revision, "stops": r.stops, "contacts": r.contacts,
    }
    if r.client:
        out["client"] = r.client
    if r.previous_revision is not None:
        out["previous_revision"] = r.previous_revision
    if r.shared_with is not None:
        out["shared_with"] = r.shared_with
    return out


def key(r: AuditRecord) -> bytes:
    return r.case_id.encode()


CODEC = json_codec("audit.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
