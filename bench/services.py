"""Kafka and Redis for benchmarks: the local stack on its own ports and data directory,
or the servers named by KAFKA_BOOTSTRAP_SERVERS / REDIS_URL.

Every run starts from an empty local stack and leaves none behind: a broker that kept every
earlier run's topics (each run has its own prefix) measured itself as much as truyvet. After
a day of runs it held 11,644 partitions and 22 GB, and its 512 MiB heap stayed ~450 MiB full
after each collection, so it collected every second or two and paused 12-25 ms each time,
answering acknowledgements late (2026-12-06). On servers named from outside, the run's topics
are deleted at its end. The processes' logs stay in ``LOGS`` to read after the run."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from truyvet.kafka.admin import admin_client, ensure_topics
from truyvet.devstack.kafka import LocalKafka
from truyvet.devstack.redis import LocalRedis
from truyvet.settings import ROOT, Settings

DATA = ROOT / ".var" / "bench-stack"
STACK = DATA / "stack"  # the run's broker, Redis, checkpoints: emptied before and after it
LOGS = DATA / "logs"  # the run's processes' output, kept


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def bench_settings() -> Iterator[Settings]:
    s = Settings.from_env(
        env={k: v for k, v in os.environ.items() if k in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")},
        # below the ephemeral port range (32768+), where a client socket could hold them
        kafka_port=31092, redis_port=31379, data_dir=STACK,
        topic_prefix=f"bench{uuid.uuid4().hex[:6]}", worker_web_port=free_port(),
        api_port=free_port(), api_token="bench-test-token-0123456789abcdefghijklmnopqrstuv", api_rate=1e6,
    )
    kafka = LocalKafka.from_settings(s) if s.local_kafka else None
    redis = LocalRedis.from_settings(s) if s.local_redis else None
    shutil.rmtree(STACK, ignore_errors=True)  # a run killed before its end left it
    LOGS.mkdir(parents=True, exist_ok=True)
    try:
        if kafka:
            kafka.start()
        if redis:
            redis.start()
        ensure_topics(s)
        yield s
    finally:
        try:
            if kafka is None:
                delete_topics(s)
        finally:
            if redis:
                redis.stop()
            if kafka:
                kafka.stop()
            shutil.rmtree(STACK, ignore_errors=True)


def delete_topics(s: Settings, timeout: float = 60.0) -> None:
    """Delete every topic of this run (its prefix, and the prefixes made from it) on a
    broker that outlives the run."""
    admin = admin_client(s)
    names = [t for t in admin.list_topics(timeout=timeout).topics if t.startswith(s.topic_prefix)]
    for future in admin.delete_topics(names, operation_timeout=timeout).values() if names else ():
        future.result(timeout)
