"""Follow-up of contacts as the API replicas keep it: every replica follows ``followups.v1``
whole (the latest status of each contact of each case), so any replica answers the same; a
status recorded through any replica is published acknowledged first, then held (read your own
writes), and comes back through the follower to the others."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from truyvet import topics
from truyvet.codec import followup as followup_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.followup import STATUSES, FollowUp
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.record import Record
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class FollowUps:
    def __init__(self, s: Settings, producer: AsyncProducer,
                 hand: Callable[[Callable[[list[Record]], None]], Callable[[list[Record]], None]],
                 backend: Backend | None = None) -> None:
        self.s = s
        self.producer = producer
        self._held: dict[bytes, FollowUp] = {}
        self.follower = TopicFollower(s, topics.followups(s), hand(self._apply),
                                      "api-followups", backend=backend)

    def _apply(self, batch: list[Record]) -> None:
        for r in batch:
            if r.key is None:
                continue
            if r.value is None:
                self._held.pop(r.key, None)
                continue
            try:
                f = followup_codec.decode(r.value)
            except InvalidEvent as exc:
                log.error("follow-up record %s[%d]@%d unreadable, passed over: %s", r.topic,
                          r.partition, r.offset, exc)
                continue
            held = self._held.get(r.key)
            if held is None or f.at_ms >= held.at_ms:
                self._held[r.key] = f

    async def record(self, f: FollowUp) -> FollowUp:
        """Published (acknowledged; raises ``DeliveryFailed`` if not), then held."""
        await self.producer.send(topics.followups(self.s), followup_codec.key(f),
                                 followup_codec.encode(f))
        self._held[followup_codec.key(f)] = f
        return f

    def of_case(self, case_id: str) -> list[FollowUp]:
        """The contacts of a case with a status recorded, by card."""
        prefix = f"{case_id}/".encode()
        return sorted((f for k, f in self._held.items() if k.startswith(prefix)),
                      key=lambda f: f.card_id)

    def forget(self, case_ids: set[str]) -> None:
        """Cases gone (past the retention): their contacts' statuses with them."""
        for k in [k for k, f in self._held.items() if f.case_id in case_ids]:
            del self._held[k]

    def counts(self, case_ids: set[str] | None = None) -> dict[str, int]:
        """Contacts by their latest status (of the standing cases ``case_ids``; all: None)."""
        n = Counter(f.status for f in self._held.values()
                    if case_ids is None or f.case_id in case_ids)
        return {status: n.get(status, 0) for status in STATUSES}
