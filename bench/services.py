"""Kafka and Redis for benchmarks: the local stack on its own ports and data directory,
or the servers named by KAFKA_BOOTSTRAP_SERVERS / REDIS_URL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from truyvet.kafka.admin import ensure_topics
from truyvet.devstack.kafka import LocalKafka
from truyvet.devstack.redis import LocalRedis
from truyvet.settings import ROOT, Settings

DATA = ROOT / ".var" / "bench-stack"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def bench_settings() -> Iterator[Settings]:
    s = Settings.from_env(
        env={k: v for k, v in os.environ.items() if k in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")},
        # below the ephemeral port range (32768+), where a client socket could hold them
        kafka_port=31092, redis_port=31379, data_dir=DATA,
        topic_prefix=f"bench{uuid.uuid4().hex[:6]}", worker_web_port=free_port(),
        api_port=free_port(), api_token="bench-test-token-0123456789abcdefghijklmnopqrstuv", api_rate=1e6,
    )
    kafka = LocalKafka.from_settings(s) if s.local_kafka else None
    redis = LocalRedis.from_settings(s) if s.local_redis else None
    try:
        if kafka:
            kafka.start()
        if redis:
            redis.start()
        ensure_topics(s)
        yield s
    finally:
        if redis:
            redis.stop()
        if kafka:
            kafka.stop()
