"""The audit trail of personal data read through the API (schemas/audit.v1).

Every itinerary submitted and every result read or pushed is recorded — who (the token's
principal), when, which case, which revision, how many contacts — in ``audit.v1``, and the
record is acknowledged by Kafka *before* the data is returned: a disclosure that cannot be
accounted for does not happen (the route answers 503 instead)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from truyvet.api.access import Principal
from truyvet.api.tracing.service import Case
from truyvet import topics
from truyvet.codec.timefmt import format_ms
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.settings import Settings

ACTIONS = ("submit", "read", "watch")


def audit_record(principal: Principal, action: str, case: Case, at_ms: int,
                 client: str | None = None) -> dict[str, Any]:
    """The record (pure)."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r}")
    out: dict[str, Any] = {
        "v": 1, "audit_id": uuid.uuid4().hex, "at": format_ms(at_ms), "principal": principal.name,
        "roles": sorted(principal.roles), "action": action, "case_id": case.itinerary.case_id,
        "revision": case.result.revision, "stops": len(case.result.stops),
        "contacts": sum(len(stop.cards) for stop in case.result.stops),
    }
    if client:
        out["client"] = client[:128]
    return out


class AuditLog:
    def __init__(self, s: Settings, producer: AsyncProducer) -> None:
        self.topic = topics.audit(s)
        self.producer = producer

    async def record(self, principal: Principal, action: str, case: Case, at_ms: int,
                     client: str | None = None) -> None:
        """Returns once Kafka has acknowledged the record; raises if it could not."""
        rec = audit_record(principal, action, case, at_ms, client)
        await self.producer.send(self.topic, rec["case_id"], orjson.dumps(rec))
