"""Follow-up of contacts as the API replicas keep it: every replica follows ``followups.v1``
whole (the latest status of each contact of each case), so any replica answers the same; a
status recorded through any replica is published acknowledged first, then held (read your own
writes), and comes back through the follower to the others."""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson

from truyvet import topics
from truyvet.api.tracing import f1_list
from truyvet.codec import followup as followup_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.followup import FollowUp
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
        self._by_case: dict[str, dict[str, FollowUp]] = {}  # the same, by case and card
        # a case's F1 cards as of its revision: parsed once a revision, not at every report
        self._f1: dict[str, tuple[int, frozenset[str]]] = {}
        self.follower = TopicFollower(s, topics.followups(s), hand(self._apply),
                                      "api-followups", backend=backend)

    def _apply(self, batch: list[Record]) -> None:
        for r in batch:
            if r.key is None:
                continue
            if r.value is None:
                gone = self._held.pop(r.key, None)
                if gone is not None:
                    self._by_case.get(gone.case_id, {}).pop(gone.card_id, None)
                continue
            try:
                f = followup_codec.decode(r.value)
            except InvalidEvent as exc:
                log.error("follow-up record %s[%d]@%d unreadable, passed over: %s", r.topic,
                          r.partition, r.offset, exc)
                continue
            held = self._held.get(r.key)
            if held is None or f.at_ms >= held.at_ms:
                self._hold(r.key, f)

    def _hold(self, key: bytes, f: FollowUp) -> None:
        self._held[key] = f
        self._by_case.setdefault(f.case_id, {})[f.card_id] = f

    async def record(self, f: FollowUp) -> FollowUp:
        """Published (acknowledged; raises ``DeliveryFailed`` if not), then held."""
        await self.producer.send(topics.followups(self.s), followup_codec.key(f),
                                 followup_codec.encode(f))
        self._hold(followup_codec.key(f), f)
        return f

    def of_case(self, case_id: str) -> list[FollowUp]:
        """The contacts of a case with a status recorded, by card."""
        return sorted(self._by_case.get(case_id, {}).values(), key=lambda f: f.card_id)

    def f1_cards(self, case_id: str, revision: int, result_json: bytes) -> frozenset[str]:
        """The F1 (close contacts) of a case's published revision ``result_json``."""
        known = self._f1.get(case_id)
        if known is None or known[0] != revision:
            cards = frozenset(c.card_id for c in f1_list.contacts_of(orjson.loads(result_json)))
            known = self._f1[case_id] = (revision, cards)
        return known[1]

    def forget(self, case_ids: set[str]) -> None:
        """Cases gone (past the retention): their contacts' statuses with them."""
        for case_id in case_ids:
            self._f1.pop(case_id, None)
            for f in self._by_case.pop(case_id, {}).values():
                self._held.pop(followup_codec.key(f), None)
