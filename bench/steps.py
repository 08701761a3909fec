"""Steps in process: the ingest step over 5,000 encoded check-ins, including making the
records from librdkafka's messages as the confluent backend does (best of 15); the compliance
step over the same check-ins, with and without the compiled reading of them."""

from __future__ import annotations

import time

from confluent_kafka import TIMESTAMP_CREATE_TIME, Message

from truyvet.codec import checkin
from truyvet.codec.checkin import CheckIn
from truyvet.jobs.ingest import IngestStep
from truyvet.kafka.confluent import _record
from truyvet.settings import Settings

N = 5000


def main() -> None:
    s = Settings.from_env(env={}, topic_prefix="bench")
    now = int(time.time() * 1000)
    values = [checkin.encode(CheckIn(f"e{i}", f"c{i % 500}", f"V{i % 40}", "s", "in",
                                     now - 1000 * i, "card")) for i in range(N)]
    messages = [Message(topic="bench.checkins.v1", partition=i % 12, offset=i, key=b"V",
                        value=v, timestamp=(TIMESTAMP_CREATE_TIME, now))
                for i, v in enumerate(values)]
    step = IngestStep(s)
    best = float("inf")
    for _ in range(15):
        started = time.perf_counter()
        step.process([_record(m) for m in messages], now)
        best = min(best, time.perf_counter() - started)
    print(f"ingest step         {best / N * 1e6:>10.2f} µs a record (records made from "
          f"librdkafka's messages included; best of 15 batches of {N:,})")
    compliance_step(s, values, now)


def compliance_step(s: Settings, values: list[bytes], now: int) -> None:
    """The compliance step over the same check-ins, reading them with the compiled core and
    with the Python rules alone, alternating batches in one run (best of 15 each)."""
    from truyvet import topics
    from truyvet.jobs import compliance
    from truyvet.jobs.progress import InputProgress
    from truyvet.kafka.record import Record

    records = [Record(topics.checkins(s), i % 12, i, b"V", v, now) for i, v in enumerate(values)]
    core = compliance.compiled
    best = {"compiled": float("inf"), "python": float("inf")}
    for _ in range(15):
        for name, reader in (("compiled", core), ("python", None)):
            if name == "compiled" and core is None:
                raise SystemExit("bench steps: the compiled core is not built (deploy/native.sh)")
            compliance.compiled = reader
            step = compliance.ComplianceStep(s, lambda t: {}, InputProgress(
                clock_topics=[topics.checkins(s), topics.heartbeats(s)]))
            started = time.perf_counter()
            step.process(records, now)
            best[name] = min(best[name], time.perf_counter() - started)
    compliance.compiled = core
    c, p = best["compiled"] / N * 1e6, best["python"] / N * 1e6
    print(f"compliance step     {c:>10.2f} µs a record with the compiled reading of check-ins, "
          f"{p:.2f} with the Python rules (ratio {p / c:.2f}; best of 15 batches of {N:,})")
