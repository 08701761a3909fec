"""Clusters (ổ dịch) as the API replicas keep and publish them.

Every replica keeps the clusters of every standing case (a
:class:`~truyvet.domain.clusters.ClusterBook` fed from its board, so GET answers the same on
any replica) and follows ``clusters.v1`` whole (what is published). Each cluster is published
by one replica: the one Kafka's consumer group gave the partition of ``itineraries.v1`` that
its id hashes to (murmur2, as for a case id; ``truyvet.api.tracing.owners``), so no election
is made here either. That replica makes the topic say what the book says, for the clusters of
its partitions: a record when one forms or changes, a tombstone when one dissolves or is
renamed, and an alert (``alerts.v1``, kind ``cluster``, partitioned by venue) when one forms
or gains a case. When it is given partitions it does so for every cluster of them, so what a
replica that died left unpublished is published by the next.

Everything here runs on the event loop; records are published acknowledged (``acks=all``)
and count as published when acknowledged. A publication that fails is tried again at the next
change, or the next assignment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from truyvet import metrics, topics
from truyvet.codec import alert as alert_codec
from truyvet.codec import cluster as cluster_codec
from truyvet.codec.alert import Alert
from truyvet.codec.cluster import ClusterMember, ClusterRecord
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.itinerary import Itinerary
from truyvet.codec.timefmt import format_ms
from truyvet.domain.clusters import Changes, Cluster, ClusterBook
from truyvet.kafka.async_producer import AsyncProducer, DeliveryFailed
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.record import Record
from truyvet.settings import Settings

log = logging.getLogger(__name__)
ALERT_KIND = "cluster"
# Cases put within this time are settled into the book together, off the submission's path:
# each venue's clusters are recomputed, and each changed cluster re-sent whole, once for all
# of them. Put one at a time, every F0 case re-sorted its venues' stops and re-sent their whole
# records: with a thousand F0 cases at the forty busy venues of `python -m bench serving`, a
# sixth of each POST; settled every 0.5 s, still a fifth of the event loop (py-spy). Five
# seconds is well inside what reads the clusters (the pages refresh every 10 s; an alert is
# for people), and readers of the API settle first.
SETTLE_S = 5.0
VENUES_A_STEP = 8  # venues recomputed between two turns of the event loop


class ClusterDesk:
    def __init__(self, s: Settings, producer: AsyncProducer, clock: Callable[[], float],
                 owned: Callable[[], set[int]], partitions: int,
                 hand: Callable[[Callable[[list[Record]], None]], Callable[[list[Record]], None]],
                 backend: Backend | None = None) -> None:
        self.s = s
        self.window = s.cluster_rule()
        self._book = ClusterBook(self.window)
        self._pending: dict[str, Itinerary | None] = {}  # case -> its version (None: gone)
        self._settling: asyncio.TimerHandle | None = None
        self._unsettled: set[str] = set()  # venues whose cases were placed, not recomputed
        self._gradual: asyncio.Future[None] | None = None
        self.producer = producer
        self._clock = clock
        self._owned = owned  # the partitions of itineraries.v1 this replica owns now
        self._partitions = partitions
        self._published: dict[str, ClusterRecord] = {}  # what clusters.v1 says
        self._sent: dict[str, bytes] = {}  # the last record this replica sent, per cluster
        self._sending: set[str] = set()
        self._again: set[str] = set()  # changed while being sent: reconciled after
        self._alerts_partitions = s.checkin_partitions  # alerts.v1: partitioned by venue
        self.follower = TopicFollower(s, topics.clusters(s), hand(self._apply_published),
                                      "api-clusters", backend=backend)

    # --- the book, from the board -------------------------------------------------------------
    @property
    def book(self) -> ClusterBook:
        """The clusters of every standing case (what was put and removed until now)."""
        self.settle()
        return self._book

    def put(self, it: Itinerary) -> None:
        """A case's current itinerary: in the book within ``SETTLE_S`` (or at the next read)."""
        self._pending[it.case_id] = it
        self._settle_soon()

    def remove(self, case_id: str) -> None:
        self._pending[case_id] = None
        self._settle_soon()

    def _settle_soon(self) -> None:
        if self._settling is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a caller outside the service): at once
            self.settle()
            return
        self._settling = loop.call_later(SETTLE_S, self._settle_gradually)

    def _settle_gradually(self) -> None:
        """What :meth:`settle` does, a few venues at a time, the event loop free in between
        (at once, at the busy venues of `python -m bench serving`, it held the loop 16-44 ms
        every half second)."""
        self._settling = None
        self._unsettled |= self._book.place(self._take_pending())
        if self._unsettled and (self._gradual is None or self._gradual.done()):
            self._gradual = asyncio.ensure_future(self._recompute_gradually())

    async def _recompute_gradually(self) -> None:
        while self._unsettled:
            venues = [self._unsettled.pop() for _ in range(min(VENUES_A_STEP,
                                                               len(self._unsettled)))]
            sending = self._publish(self._book.recompute(venues))
            # a step's records acknowledged before the next step's are sent: a settling at
            # busy venues changes hundreds of clusters, whose acknowledgements, all in flight
            # at once, came back together and held the event loop while each was taken
            # (what `_send` raises stays on its task, as when nothing awaits it)
            await (asyncio.wait(sending) if sending else asyncio.sleep(0))

    def settle(self) -> list[asyncio.Future[None]]:
        """Put the cases changed since the last settling into the book, each venue they touch
        recomputed once, and publish what that changed; the publications under way."""
        if self._settling is not None:
            self._settling.cancel()
            self._settling = None
        self._unsettled |= self._book.place(self._take_pending())
        venues, self._unsettled = self._unsettled, set()
        return self._publish(self._book.recompute(venues)) if venues else []

    def _take_pending(self) -> dict[str, Itinerary | None]:
        pending, self._pending = self._pending, {}
        return pending

    def _publish(self, changes: Changes) -> list[asyncio.Future[None]]:
        if not changes:
            return []
        return self.reconcile([c.cluster_id for c in changes.put] + changes.removed)

    # --- what is published ------------------------------------------------------------------------
    def _apply_published(self, batch: list[Record]) -> None:
        for r in batch:
            if r.key is None:
                continue
            cid = r.key.decode(errors="replace")
            if r.value is None:
                self._published.pop(cid, None)
                continue
            if self._sent.get(cid) == r.value:
                continue  # this replica's own record, read back: held already
            try:
                record = cluster_codec.decode(r.value)
            except InvalidEvent as exc:
                log.error("cluster record %s[%d]@%d unreadable, passed over: %s", r.topic,
                          r.partition, r.offset, exc)
                continue
            held = self._published.get(cid)
            if held is None or record.updated_at_ms >= held.updated_at_ms:  # (not our older one)
                self._published[cid] = record

    def partition(self, cluster_id: str) -> int:
        return partition_of(cluster_id.encode(), self._partitions)

    async def take(self, parts: set[int]) -> None:
        """Partitions given to this replica: their clusters made to say what the book says
        (call once the board and the topic are read to their ends); returns when published."""
        settling = self.settle()
        ids = {c.cluster_id for c in self._book.clusters()} | set(self._published)
        sending = self.reconcile(cid for cid in ids if self.partition(cid) in parts)
        await asyncio.gather(*settling, *sending, return_exceptions=True)

    def reconcile(self, cluster_ids: Iterable[str]) -> list[asyncio.Future[None]]:
        """Publish what differs between the book and the topic, for the clusters among
        ``cluster_ids`` of this replica's partitions; the publications under way."""
        owned = self._owned()
        sending: list[asyncio.Future[None]] = []
        for cid in cluster_ids:
            if self.partition(cid) not in owned:
                continue
            if cid in self._sending:
                self._again.add(cid)
                continue
            now, was = self._book.get(cid), self._published.get(cid)
            if now is None and was is None:
                continue
            if now is not None and was is not None and _same(now, was, self.window.text()):
                continue
            self._sending.add(cid)
            sending.append(asyncio.ensure_future(self._send(cid, now, was)))
        return sending

    async def _send(self, cid: str, now: Cluster | None, was: ClusterRecord | None) -> None:
        try:
            if now is None:
                self._sent.pop(cid, None)
                await self.producer.send(topics.clusters(self.s), cid, None)
                self._published.pop(cid, None)
                log.info("cluster %s dissolved", cid)
            else:
                record = self.record(now)
                raw = self._sent[cid] = cluster_codec.encode(record)
                await self.producer.send(topics.clusters(self.s), cid, raw)
                self._published[cid] = record
                if was is None or record.cases > was.cases:
                    self._alert(record)
        except DeliveryFailed as exc:
            log.error("cluster %s not published (tried again at its next change): %s", cid, exc)
        finally:
            self._sending.discard(cid)
            if cid in self._again:
                self._again.discard(cid)
                self.reconcile([cid])

    def record(self, c: Cluster) -> ClusterRecord:
        return ClusterRecord(c.cluster_id, c.venue_id, self.window.text(), c.from_ms, c.to_ms,
                             len(c.cases), tuple(ClusterMember(m.case_id, m.stop, m.from_ms,
                                                               m.to_ms) for m in c.members),
                             int(self._clock() * 1000))

    def _alert(self, c: ClusterRecord) -> None:
        name = c.cluster_id.rpartition("@")[2]
        a = Alert(f"{c.venue_id}/{ALERT_KIND}/{name}/{c.cases}", c.venue_id, ALERT_KIND,
                  int(self._clock() * 1000),
                  f"{c.cases} F0 cases declared this venue from {format_ms(c.from_ms)} to "
                  f"{format_ms(c.to_ms)} (cluster {c.cluster_id})",
                  {"cases": c.cases, "from": format_ms(c.from_ms), "to": format_ms(c.to_ms),
                   "cluster_id": c.cluster_id})
        self.producer.send_nowait(topics.alerts(self.s), alert_codec.key(a),
                                   alert_codec.encode(a), partition=partition_of(
                                       c.venue_id.encode(), self._alerts_partitions))
        metrics.ALERTS.labels(ALERT_KIND).inc()
        log.info("cluster %s: %d F0 cases", c.cluster_id, c.cases)


def _same(c: Cluster, r: ClusterRecord, window: str) -> bool:
    """The published record says what the cluster is (its time of writing aside)."""
    return (r.window == window and r.venue_id == c.venue_id and r.from_ms == c.from_ms
            and r.to_ms == c.to_ms and r.members == tuple(
                ClusterMember(m.case_id, m.stop, m.from_ms, m.to_ms) for m in c.members))
