"""``truyvet stack up|down|status``: the local Kafka broker and Redis server, and the topics."""

from __future__ import annotations

import click

from truyvet import settings as settings_mod
from truyvet.kafka.admin import ensure_topics
from truyvet.cli.options import env_option
from truyvet.devstack.kafka import LocalKafka
from truyvet.devstack.redis import LocalRedis
from truyvet.devstack.secure import SecureStack
from truyvet.kafka.security import ROLES, provision
from truyvet.settings import Settings

_STACK_SETTINGS = ("bootstrap_servers", "redis_url", "kafka_port", "redis_port", "data_dir",
                   "kafka_version", "kafka_heap", "topic_prefix", "checkin_partitions",
                   "retention_days", "replication_factor")


@click.group("stack")
def command() -> None:
    """The local stack: Apache Kafka (KRaft) and Redis, run from this checkout."""


def up(s: Settings, secure: bool = False) -> list[str]:
    """Start what is local and not running; create missing topics (secured: also the roles'
    users and ACLs, as the admin). Returns what it started."""
    started = []
    kafka = LocalKafka.from_settings(s, secure=secure) if s.local_kafka else None
    if kafka is not None:
        if not any(kafka.running()):
            started.append("kafka")
        kafka.start()
    if s.local_redis:
        redis = LocalRedis.from_settings(s, secure=secure)
        if redis.running() is None:
            started.append("redis")
        redis.start()
    if secure and kafka is not None:
        stack = SecureStack(s)
        admin = kafka.client_settings()
        ensure_topics(admin)
        provision(admin, {role: stack.passwords()[role] for role in ROLES})
        stack.write_env_files()
    else:
        ensure_topics(s)
    return started


def down(s: Settings, only: list[str] | None = None, secure: bool = False) -> None:
    if s.local_redis and (only is None or "redis" in only):
        LocalRedis.from_settings(s, secure=secure).stop()
    if s.local_kafka and (only is None or "kafka" in only):
        LocalKafka.from_settings(s, secure=secure).stop()


SECURE = env_option("--secure/--plaintext", "TRUYVET_STACK_SECURE", "secure", default=False,
                    help="The secured local stack: Kafka on SASL_SSL (SCRAM-SHA-512) with ACLs, "
                         "one user per role; Redis with a password, on TLS.")


@command.command("up")
@SECURE
@settings_mod.options(*_STACK_SETTINGS)
def up_command(secure: bool, **kwargs: object) -> None:
    """Start the local broker and Redis (reusing running ones) and create the topics."""
    s = settings_mod.from_options(kwargs)
    started = up(s, secure)
    click.echo(f"kafka  {s.bootstrap_servers}{'' if s.local_kafka else '  (external)'}"
               f"{'  SASL_SSL, ACLs' if secure else ''}")
    redis = LocalRedis.from_settings(s, secure).url.split("@")[-1] if s.local_redis else "external"
    click.echo(f"redis  {redis}{'  TLS, password' if secure else ''}")
    click.echo(f"started: {', '.join(started) or 'nothing (already running)'}")
    if secure:
        env_dir = SecureStack(s).dir
        click.echo(f"each role's environment (credentials: keep them private): "
                   f"{env_dir}/{{admin,scanner,worker,api}}.env -- e.g. `set -a; . "
                   f"{env_dir}/worker.env; set +a; truyvet worker`")


@command.command("down")
@SECURE
@settings_mod.options(*_STACK_SETTINGS)
def down_command(secure: bool, **kwargs: object) -> None:
    """Stop the local broker and Redis gracefully (acknowledged data is kept)."""
    down(settings_mod.from_options(kwargs), secure=secure)
    click.echo("stopped")


@command.command("status")
@SECURE
@settings_mod.options(*_STACK_SETTINGS)
def status_command(secure: bool, **kwargs: object) -> None:
    """Say which local servers are running."""
    s = settings_mod.from_options(kwargs)
    if s.local_kafka:
        pids = LocalKafka.from_settings(s, secure=secure).running()
        click.echo(f"kafka  {s.bootstrap_servers}  pids={pids}")
    if s.local_redis:
        click.echo(f"redis  127.0.0.1:{s.redis_port}  "
                   f"pid={LocalRedis.from_settings(s, secure=secure).running()}")
