"""The audit trail of personal data read through the API (schemas/audit.v1).

Every itinerary submitted and every result read or pushed is recorded -- who (the token's
principal), when, which case, which revision, how many contacts -- in ``audit.v1``, and the
record is acknowledged by Kafka *before* the data is returned: a disclosure that cannot be
accounted for does not happen (the route answers 503 instead)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Protocol

from truyvet import topics
from truyvet.api.access import Principal
from truyvet.codec import audit as audit_codec
from truyvet.codec.audit import ACTIONS, AuditRecord
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.settings import Settings


class Disclosed(Protocol):
    """What an audit record says of a case disclosed: a revision and its counts."""

    @property
    def case_id(self) -> str: ...

    @property
    def revision(self) -> int: ...

    @property
    def stop_count(self) -> int: ...

    @property
    def contacts(self) -> int: ...


def audit_record(principal: Principal, action: str, case: Disclosed, at_ms: int,
                 client: str | None = None, previous_revision: int | None = None,
                 shared_with: str | None = None) -> AuditRecord:
    """The record (pure)."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r}")
    return AuditRecord(uuid.uuid4().hex, at_ms, principal.name, tuple(sorted(principal.roles)),
                       action, case.case_id, case.revision, case.stop_count, case.contacts,
                       client[:128] if client else None, previous_revision, shared_with)


class AuditLog:
    def __init__(self, s: Settings, producer: AsyncProducer) -> None:
        self.topic = topics.audit(s)
        self.producer = producer

    def sending(self, principal: Principal, action: str, case: Disclosed, at_ms: int,
                client: str | None = None, previous_revision: int | None = None,
                shared_with: str | None = None) -> Awaitable[tuple[int, int]]:
        """The record handed to Kafka now (raises if the client refuses it); what this returns
        resolves once Kafka has acknowledged it, and raises if it could not."""
        rec = audit_record(principal, action, case, at_ms, client, previous_revision, shared_with)
        return self.producer.sending(self.topic, audit_codec.key(rec), audit_codec.encode(rec))
