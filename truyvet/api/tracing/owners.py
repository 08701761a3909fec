"""Which API replica re-matches which cases: Kafka's consumer group ``<prefix>-api`` over the
partitions of ``itineraries.v1``, and nothing home-made.

Every replica joins the group; the partitions the group assigns to a replica are the cases it
owns: it answers their submissions, re-matches them as late scans arrive and publishes their
revisions. The group's records themselves are not used (each replica follows the whole topic
for its board, ``truyvet.api.tracing.board``): the consumer is polled only to stay a member and
hear of assignments, from its own thread.

``on_assign`` and ``on_revoke`` run on that thread and block it until they return: a replica
losing partitions finishes what it was doing with their cases before the group hands them on,
so two replicas never publish revisions of one case at once. A replica that dies (SIGKILL) is
dropped by the group after its session timeout (``session.timeout.ms``, 10 s); its partitions
then go to the others, which answer again whatever it left unanswered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from truyvet.kafka.backend import Backend
from truyvet.kafka.producer import default_backend
from truyvet.kafka.record import TopicPartition
from truyvet.settings import Settings

log = logging.getLogger(__name__)
Handover = Callable[[set[int]], None]


class CaseOwners:
    def __init__(self, s: Settings, topic: str, on_assign: Handover, on_revoke: Handover,
                 backend: Backend | None = None) -> None:
        self.topic = topic
        self.group = f"{s.topic_prefix}-api"
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        # from the end: the records are not read, only the assignment is (no commits either)
        self._consumer = (backend or default_backend(s)).group_consumer(
            self.group, "truyvet-api-owner", **{"auto.offset.reset": "latest",
                                               "enable.partition.eof": False,
                                               "fetch.max.bytes": 1024 * 1024,
                                               "queued.max.messages.kbytes": 1024})
        self.owned: set[int] = set()
        self.assigned_once = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-owners", daemon=True)

    def start(self) -> CaseOwners:
        self._consumer.subscribe([self.topic], on_assign=self._assigned,
                                 on_revoke=self._revoked, on_lost=self._revoked)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Leave the group: the partitions are revoked first (handed over cleanly)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._consumer.consume(500, 0.2)  # membership and assignments only
                except Exception:  # noqa: BLE001 - stay a member; say why
                    log.exception("the API's consumer group failed; retrying")
                    self._stop.wait(1)
        finally:
            self._consumer.close()

    def _assigned(self, tps: list[TopicPartition]) -> None:
        parts = {p for t, p in tps if t == self.topic} - self.owned
        if parts:
            log.info("cases of %s partitions %s now re-matched here", self.topic, sorted(parts))
            self.owned |= parts
            self._on_assign(parts)
        self.assigned_once.set()

    def _revoked(self, tps: list[TopicPartition]) -> None:
        parts = {p for t, p in tps if t == self.topic} & self.owned
        if parts:
            log.info("cases of %s partitions %s handed over", self.topic, sorted(parts))
            self.owned -= parts
            self._on_revoke(parts)
