"""What a POST waits for in Kafka, alone: the acknowledgements of the itinerary and of the
audit record, one after the other as the API awaits them, each request also sending a result
of the answers' own size without waiting for it. The API's producers with the API's settings,
on topics made like the API's (the benchmark's own, which the API does not read), and no API:
the floor under a POST's latency on this machine and broker, measured in the run it bounds.

Used by ``bench serving`` (:func:`measure`) between its idle phase and the ingest load."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from truyvet import topics
from truyvet.codec import audit as audit_codec
from truyvet.codec.audit import AuditRecord
from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.settings import Settings
from truyvet.topics import MAX_RESULT_BYTES, TopicSpec

WARM_UP = 100  # requests first, not counted (the producers' connections, the broker's JIT)


def own_topics(s: Settings) -> dict[str, TopicSpec]:
    """The itinerary, audit and result topics of the catalogue, under other names."""
    wanted = {topics.itineraries(s): "itineraries", topics.audit(s): "audit",
              topics.match_results(s): "results"}
    return {kind: dataclasses.replace(spec, name=s.topic(f"acks-alone.{kind}"))
            for spec in topics.catalogue(s) if (kind := wanted.get(spec.name))}


def measure(s: Settings, itineraries: list[bytes], result: bytes,
            gap_s: float) -> list[tuple[float, float]]:
    """Per request, the milliseconds the itinerary's acknowledgement took, then the audit
    record's (sent once the itinerary's came); one request after the other, ``gap_s`` apart
    (the rest of a request), for every itinerary body given (after :data:`WARM_UP` more)."""
    made = own_topics(s)
    ensure_topics(s, list(made.values()))
    names = {kind: spec.name for kind, spec in made.items()}
    return asyncio.run(_requests(s, names, itineraries, result, gap_s))


async def _requests(s: Settings, names: dict[str, str], bodies: list[bytes], result: bytes,
                    gap_s: float) -> list[tuple[float, float]]:
    # as the tracer service makes them: small records at once, results on a second connection
    producer = AsyncProducer(s, "bench-acks", None, s.api_send_timeout_s, **{"linger.ms": 0})
    results = AsyncProducer(s, "bench-acks-results", None, s.api_send_timeout_s,
                            **{"message.max.bytes": MAX_RESULT_BYTES})
    took = []
    try:
        for i, body in enumerate([*bodies[:WARM_UP], *bodies]):
            case_id = f"case-{i}"
            started = time.perf_counter()
            await producer.sending(names["itineraries"], case_id, body)
            recorded = time.perf_counter()
            await producer.sending(names["audit"], case_id, _audit_record(case_id))
            if i >= WARM_UP:
                took.append(((recorded - started) * 1000,
                             (time.perf_counter() - recorded) * 1000))
            results.send_nowait(names["results"], case_id, result)
            await asyncio.sleep(gap_s)
    finally:
        await asyncio.to_thread(producer.close)
        await asyncio.to_thread(results.close)
    return took


def _audit_record(case_id: str) -> bytes:
    return audit_codec.encode(AuditRecord(
        f"audit-{case_id}", int(time.time() * 1000), "bench", ("tracer",), "submit", case_id,
        1, 10, 14_000, "127.0.0.1"))
