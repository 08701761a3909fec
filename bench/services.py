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
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from truyvet.kafka.admin import admin_client, ensure_topics
from truyvet.devstack.kafka import LocalKafka
from truyvet.devstack.process import port_open, read_pid
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
    busy = [p for p in ([s.kafka_port] if kafka else []) + ([s.redis_port] if redis else [])
            if port_open("127.0.0.1", p)]
    if busy:  # another run's stack, most likely: emptying STACK under its broker stops it
        raise SystemExit(f"bench: port(s) {', '.join(map(str, busy))} already in use: another "
                         f"benchmark running? (its stack is {STACK}); nothing was started")
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


def stack_pids(s: Settings) -> dict[str, int]:
    """The local stack's running processes by name (none for servers named from outside)."""
    files = {f"broker {i + 1}" if i else "broker": f
             for i, f in enumerate(sorted(s.data_dir.glob("kafka/node-*/broker.pid")))}
    files["redis"] = s.data_dir / "redis" / "redis.pid"
    return {name: pid for name, f in files.items() if (pid := read_pid(f)) is not None}


def wait_compacted(s: Settings, topic: str, quiet_s: float = 20.0,
                   timeout_s: float = 900.0) -> float:
    """Wait until the local broker's log cleaner has done compacting ``topic``; the seconds
    waited.

    Visits published in bulk (days of them at once, a segment per day of their timestamps)
    are all compacted by the broker's one cleaner thread soon after: in a throwaway profile
    it took 43 % of the broker's CPU samples during the API's idle phase (MD5 of every key,
    2026-12-06). A deployment compacts as it ingests; a benchmark that measured "idle" while
    that ran would measure the cleaner. Done is the cleaner's own checkpoint
    (``cleaner-offset-checkpoint``: topic, partition, offset cleaned to) unchanged for
    ``quiet_s``, longer than the 15 s the cleaner waits before it looks again when it finds
    nothing to clean (``log.cleaner.backoff.ms``); it goes from partition to partition
    without waiting. Servers named from outside: not waited for."""
    started = time.monotonic()
    if not s.local_kafka:
        return 0.0
    seen, since = _cleaned(s, topic), started
    while time.monotonic() - since < quiet_s:
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"{topic}: still being compacted after {timeout_s:g}s")
        time.sleep(0.5)
        now = _cleaned(s, topic)
        if now != seen:
            seen, since = now, time.monotonic()
    return since - started


def _cleaned(s: Settings, topic: str) -> dict[str, int]:
    """Per partition of ``topic``, the offset the cleaner has compacted it to."""
    out = {}
    for checkpoint in s.data_dir.glob("kafka/node-*/data/cleaner-offset-checkpoint"):
        try:
            lines = checkpoint.read_text().splitlines()[2:]  # version, count, then entries
        except OSError:
            continue
        for line in lines:
            t, partition, offset = line.split()
            if t == topic:
                out[f"{checkpoint.parent.parent.name}/{partition}"] = int(offset)
    return out
