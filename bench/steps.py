"""Steps in process: the ingest step over 5,000 encoded check-ins, including making the
records from librdkafka's messages as the confluent backend does (best of 15)."""

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
