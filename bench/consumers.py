"""Consumers doing nothing with their records: a faust agent against aiokafka and
confluent-kafka. The ceiling that moved the check-in path off faust agents."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time

N = 300_000


def main() -> None:
    from bench.services import bench_settings
    from truyvet.kafka.producer import DurableProducer
    from truyvet.topics import checkins

    with bench_settings() as s, tempfile.TemporaryDirectory(prefix="bench-faust-") as data:
        p = DurableProducer(s, "bench-consumers")
        for i in range(N):
            p.send(checkins(s), b"k%d" % (i % 1000), b"x" * 150)
        assert p.flush(60) == 0
        # faust keeps its tables under a data directory: the run's own, removed at its end
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap_servers,
               "BENCH_FAUST_DATA": data}
        for client in ("faust-events", "faust-take", "aiokafka", "confluent"):
            out = subprocess.run([sys.executable, "-m", "bench.consumers", client, checkins(s)],
                                 env=env, capture_output=True, text=True, timeout=600)
            print(out.stdout.strip() or out.stderr[-500:], flush=True)


def _faust(topic: str, take: bool) -> None:
    import faust

    from truyvet.jobs.worker import Worker

    app = faust.App(f"bench-faust-{time.time():.0f}", broker=f"kafka://{_servers()}",
                    store="memory://", datadir=os.environ["BENCH_FAUST_DATA"],
                    web_enabled=False, topic_allow_declare=False, topic_disable_leader=True,
                    consumer_auto_offset_reset="earliest")
    source = app.topic(topic, key_serializer="raw", value_serializer="raw")
    seen = {"n": 0, "t0": 0.0}

    @app.agent(source)
    async def count(stream: faust.StreamT) -> None:
        batches = stream.take_events(2000, within=0.05) if take else None
        if take:
            async for events in batches:
                seen["t0"] = seen["t0"] or time.time()
                seen["n"] += len(events)
                if seen["n"] >= N:
                    break
        else:
            async for _ in stream.events():
                seen["t0"] = seen["t0"] or time.time()
                seen["n"] += 1
                if seen["n"] >= N:
                    break
        name = "faust agent, take_events(2000)" if take else "faust agent, events()"
        print(f"{name:<32} {N / (time.time() - seen['t0']):>12,.0f} records/s", flush=True)
        os._exit(0)

    Worker(app, loglevel="warn", quiet=True, redirect_stdouts=False).execute_from_commandline()


def _aiokafka(topic: str) -> None:
    import aiokafka

    async def run() -> None:
        c = aiokafka.AIOKafkaConsumer(topic, bootstrap_servers=_servers(),
                                      group_id=f"bench-aio-{time.time()}",
                                      auto_offset_reset="earliest", max_poll_records=10_000)
        await c.start()
        n, t0 = 0, 0.0
        while n < N:
            batch = await c.getmany(timeout_ms=1000)
            t0 = t0 or (time.time() if batch else 0.0)
            n += sum(len(v) for v in batch.values())
        print(f"{'aiokafka getmany()':<32} {N / (time.time() - t0):>12,.0f} records/s")
        await c.stop()

    asyncio.run(run())


def _confluent(topic: str) -> None:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": _servers(), "group.id": f"bench-ck-{time.time()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    n, t0 = 0, 0.0
    while n < N:
        msgs = c.consume(10_000, 1.0)
        t0 = t0 or (time.time() if msgs else 0.0)
        n += len(msgs)
    print(f"{'confluent-kafka consume()':<32} {N / (time.time() - t0):>12,.0f} records/s")
    c.close()


def _servers() -> str:
    return os.environ["KAFKA_BOOTSTRAP_SERVERS"]


if __name__ == "__main__":
    kind, topic_name = sys.argv[1], sys.argv[2]
    {"faust-events": lambda t: _faust(t, take=False), "faust-take": lambda t: _faust(t, take=True),
     "aiokafka": _aiokafka, "confluent": _confluent}[kind](topic_name)
