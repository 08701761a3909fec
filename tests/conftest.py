"""Session-wide services for the tests: a real Kafka broker and a real Redis server.

Where they come from, in order:
1. ``KAFKA_BOOTSTRAP_SERVERS`` / ``REDIS_URL`` set: those servers are used as they are;
2. ``TRUYVET_TEST_BACKEND=testcontainers`` (needs a Docker engine): containers;
3. otherwise the project's own local stack (``truyvet.devstack``) on test ports
   (Kafka 29092, Redis 26379, data in .var/test-stack), started once per session and
   stopped at its end if this session started it.

Every test gets its own topic prefix (``settings`` fixture), hence its own topics and
consumer groups, so tests never see each other's data.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from truyvet.settings import ROOT, Settings

TEST_KAFKA_PORT = int(os.environ.get("TRUYVET_TEST_KAFKA_PORT", "29092"))
TEST_REDIS_PORT = int(os.environ.get("TRUYVET_TEST_REDIS_PORT", "26379"))
TEST_DATA_DIR = Path(os.environ.get("TRUYVET_TEST_DATA_DIR", ROOT / ".var" / "test-stack"))


@dataclass(frozen=True)
class Services:
    bootstrap_servers: str
    redis_url: str


def pytest_configure(config: pytest.Config) -> None:
    """A session stopped by SIGTERM (``timeout``, a CI limit) ends as Ctrl-C does: every
    fixture's teardown and every test's ``finally`` run, so the Kafka, Redis, workers and APIs
    it started stop with it (a session killed without them once left a broker on port 29092
    that failed the next session of another checkout)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    external_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    external_redis = os.environ.get("REDIS_URL")
    if os.environ.get("TRUYVET_TEST_BACKEND") == "testcontainers":
        yield from _containers(external_kafka, external_redis)
        return
    from truyvet.devstack.kafka import LocalKafka
    from truyvet.devstack.redis import LocalRedis

    kafka = None if external_kafka else LocalKafka(TEST_DATA_DIR / "kafka", TEST_KAFKA_PORT)
    redis = None if external_redis else LocalRedis(TEST_DATA_DIR / "redis", TEST_REDIS_PORT)
    stop_kafka = kafka is not None and not any(kafka.running())
    stop_redis = redis is not None and redis.running() is None
    if stop_kafka:
        # the test broker holds only tests' topics: start empty rather than carry every earlier
        # session's thousands of partitions (which slow topic creation down)
        shutil.rmtree(TEST_DATA_DIR / "kafka", ignore_errors=True)
    try:
        if kafka is not None:
            kafka.start()
        if redis is not None:
            redis.start()
        yield Services(
            external_kafka or kafka.bootstrap_servers,  # type: ignore[union-attr]
            external_redis or redis.url,  # type: ignore[union-attr]
        )
    finally:
        if redis is not None and stop_redis:
            redis.stop()
        if kafka is not None and stop_kafka:
            kafka.stop()


def _containers(external_kafka: str | None, external_redis: str | None) -> Iterator[Services]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    kafka = None if external_kafka else KafkaContainer("apache/kafka:4.1.1").with_kraft()
    redis = None if external_redis else RedisContainer("redis:7")
    try:
        if kafka is not None:
            kafka.start()
        if redis is not None:
            redis.start()
        yield Services(
            external_kafka or kafka.get_bootstrap_server(),  # type: ignore[union-attr]
            external_redis
            or f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0",  # type: ignore[union-attr]
        )
    finally:
        for c in (redis, kafka):
            if c is not None:
                c.stop()


@pytest.fixture
def settings(services: Services, tmp_path: Path) -> Settings:
    """Settings for one test: the session's servers, topics and groups of its own."""
    return own_settings(services, tmp_path)


def own_settings(services: Services, tmp: Path, **overrides: object) -> Settings:
    """The session's servers; topics, groups, data directory and ports of one's own (a
    worker's metrics, the API, whose token is ``test-token-…``); ``overrides`` win."""
    return Settings.from_env(env={}, **{
        "bootstrap_servers": services.bootstrap_servers, "redis_url": services.redis_url,
        "topic_prefix": f"t{uuid.uuid4().hex[:10]}", "data_dir": tmp / "data",
        "worker_web_port": _free_port(), "api_port": _free_port(), "api_token": "test-token-0123456789abcdefghijklmnopqrstuv",
        **overrides,
    })


_HANDED_OUT: set[int] = set()  # ports given to a test: not yet bound, maybe, but promised


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux's default if unreadable)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999


def _free_port() -> int:
    """A free port below the ephemeral range (see ``free_base``), never handed out twice."""
    return free_base((0,))


def _free_ports(n: int) -> int:
    """The first of ``n`` consecutive free ports (for a worker and the next processes)."""
    return free_base(tuple(range(n)))


def free_base(offsets: tuple[int, ...]) -> int:
    """A port base ``b`` with every ``b + offset`` free and below the kernel's ephemeral range:
    a local cluster's client, controller and broker ports. (Once picked in that range, a port
    was taken by some client's outgoing connection while Kafka's JVM started, and the broker
    could not bind it.)"""
    import random
    import socket

    def free(port: int) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
            return True

    top = ephemeral_ports()[0] - max(offsets) - 1
    for _ in range(200):
        base = random.randint(10_000, top)
        ports = {base + o for o in offsets}
        if not ports & _HANDED_OUT and all(free(port) for port in ports):
            _HANDED_OUT.update(ports)
            return base
    raise RuntimeError(f"no free ports at offsets {offsets}")
