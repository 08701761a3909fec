"""A summary of the latest result of every case in Redis, for processes other than the API.

Key ``<prefix>:result:<case_id>`` (:func:`result_key`, the only place it is written), expiring
with the case: ``{case_id, revision, computed_at, stops, verified, gaps, contacts}`` -- counts
only. Contacts and card ids never go to Redis: no code reads them there, and a cache is no
place for who was where with whom (it used to hold every result whole, up to megabytes). A
notification ``{case_id, revision}`` on channel ``<prefix>:results`` for each new revision.
Redis holds copies only (no persistence): answers never depend on it, and when it comes back
empty -- flushed or restarted -- every current summary is written again
(:meth:`ResultStore.refill_when_empty`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import orjson
import redis.asyncio as aioredis

from truyvet import metrics
from truyvet.codec.timefmt import format_ms
from truyvet.domain.matching.revisions import Case
from truyvet.settings import Settings

log = logging.getLogger(__name__)


def result_key(prefix: str, case_id: str) -> str:
    return f"{prefix}:result:{case_id}"


def summary(case: Case) -> bytes:
    """What Redis holds of a case: its latest revision, in counts."""
    stops = case.result.stops
    return orjson.dumps({
        "case_id": case.itinerary.case_id, "revision": case.result.revision,
        "computed_at": format_ms(case.result.computed_at_ms), "stops": len(stops),
        "verified": sum(1 for s in stops if s.verified), "gaps": sum(1 for s in stops if s.gap),
        "contacts": case.contacts})


class ResultStore:
    def __init__(self, s: Settings, retention_s: int) -> None:
        self.prefix = s.topic_prefix
        self.retention_s = retention_s
        self.redis = aioredis.Redis.from_url(s.redis_url, socket_timeout=2)

    async def store(self, case: Case) -> None:
        """The case's latest result, and a notification; a Redis away is logged, not raised
        (Kafka has every revision)."""
        case_id = case.itinerary.case_id
        try:  # one round trip
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(result_key(self.prefix, case_id), summary(case),
                     exat=case.expires_at_s(self.retention_s))
            pipe.publish(f"{self.prefix}:results", orjson.dumps(
                {"case_id": case_id, "revision": case.result.revision}))
            await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - Redis is a cache here; Kafka has it
            log.warning("storing result of %s in Redis failed: %s", case_id, exc)

    async def refill_when_empty(self, owned: Callable[[], dict[int, list[Case]]],
                                every_s: float = 2.0) -> None:
        """Forever: for each partition of the itineraries topic this replica owns, when Redis
        has lost the marker key saying it is filled, write the current result of every case
        of that partition again (a flush or a restart emptied it; each replica refills its
        own cases)."""
        while True:
            await asyncio.sleep(every_s)
            try:
                for partition, cases in owned().items():
                    marker = f"{self.prefix}:api-filled:{partition}"
                    if await self.redis.exists(marker):
                        continue
                    started = time.monotonic()
                    pipe = self.redis.pipeline(transaction=False)
                    for case in cases:
                        pipe.set(result_key(self.prefix, case.itinerary.case_id), summary(case),
                                 exat=case.expires_at_s(self.retention_s))
                    pipe.set(marker, b"1")
                    await pipe.execute()
                    metrics.REDIS_REFILLS.inc()
                    log.info("Redis was empty: %d results of partition %d written again in "
                             "%.2fs", len(cases), partition, time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - Redis away: the answers do not need it
                log.debug("Redis unavailable: %s", exc)

    async def close(self) -> None:
        await self.redis.aclose()
