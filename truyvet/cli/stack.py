"""``truyvet stack up|down|status``: the local Kafka broker and Redis server, and the topics."""

from __future__ import annotations

import click

from truyvet import settings as settings_mod
from truyvet.kafka.admin import ensure_topics
from truyvet.devstack.kafka import LocalKafka
from truyvet.devstack.redis import LocalRedis
from truyvet.settings import Settings

_STACK_SETTINGS = ("bootstrap_servers", "redis_url", "kafka_port", "redis_port", "data_dir",
                   "kafka_version", "kafka_heap", "topic_prefix", "checkin_partitions",
                   "retention_days", "replication_factor")


@click.group("stack")
def command() -> None:
    """The local stack: Apache Kafka (KRaft) and Redis, run from this checkout."""


def up(s: Settings) -> list[str]:
    """Start what is local and not running; create missing topics. Returns what it started."""
    started = []
    if s.local_kafka:
        kafka = LocalKafka.from_settings(s)
        if not any(kafka.running()):
            started.append("kafka")
        kafka.start()
    if s.local_redis:
        redis = LocalRedis.from_settings(s)
        if redis.running() is None:
            started.append("redis")
        redis.start()
    ensure_topics(s)
    return started


def down(s: Settings, only: list[str] | None = None) -> None:
    if s.local_redis and (only is None or "redis" in only):
        LocalRedis.from_settings(s).stop()
    if s.local_kafka and (only is None or "kafka" in only):
        LocalKafka.from_settings(s).stop()


@command.command("up")
@settings_mod.options(*_STACK_SETTINGS)
def up_command(**kwargs: object) -> None:
    """Start the local broker and Redis (reusing running ones) and create the topics."""
    s = settings_mod.from_options(kwargs)
    started = up(s)
    click.echo(f"kafka  {s.bootstrap_servers}{'' if s.local_kafka else '  (external)'}")
    click.echo(f"redis  {s.redis_url}{'' if s.local_redis else '  (external)'}")
    click.echo(f"started: {', '.join(started) or 'nothing (already running)'}")


@command.command("down")
@settings_mod.options(*_STACK_SETTINGS)
def down_command(**kwargs: object) -> None:
    """Stop the local broker and Redis gracefully (acknowledged data is kept)."""
    down(settings_mod.from_options(kwargs))
    click.echo("stopped")


@command.command("status")
@settings_mod.options(*_STACK_SETTINGS)
def status_command(**kwargs: object) -> None:
    """Say which local servers are running."""
    s = settings_mod.from_options(kwargs)
    if s.local_kafka:
        pids = LocalKafka.from_settings(s).running()
        click.echo(f"kafka  {s.bootstrap_servers}  pids={pids}")
    if s.local_redis:
        click.echo(f"redis  {s.redis_url}  pid={LocalRedis.from_settings(s).running()}")
