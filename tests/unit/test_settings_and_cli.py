from __future__ import annotations

from pathlib import Path

import click
import pytest

from truyvet.cli import main
from truyvet.kafka.admin import replication_for
from truyvet.devstack.kafka import LocalKafka
from truyvet.settings import Settings


def test_settings_read_environment_and_fill_local_addresses() -> None:
    s = Settings.from_env(env={"TRUYVET_KAFKA_PORT": "30000", "TRUYVET_RETENTION_DAYS": "0.5"})
    assert s.local_kafka and s.bootstrap_servers == "127.0.0.1:30000"
    assert s.retention_ms == 43_200_000
    ext = Settings.from_env(env={"KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "REDIS_URL": "redis://r/1"})
    assert not ext.local_kafka and not ext.local_redis and ext.bootstrap_servers == "k1:9092,k2:9092"
    assert Settings.from_env(env=ext.to_env()) == ext
    assert s.replace(kafka_port=1).bootstrap_servers == "127.0.0.1:1"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    ctx = click.Context(group)  # the main group imports a command's module when asked for it
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"{prefix}{name} is listed but has no command"
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, prefix + name + " "))
    return out


def test_every_flag_mirrors_an_environment_variable_shown_in_help() -> None:
    commands = [("truyvet", main), *_commands(main)]
    assert len(commands) > 8
    for name, cmd in commands:
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.envvar, f"{name} {param.opts} has no environment variable"
                assert param.show_envvar, f"{name} {param.opts} hides its environment variable"


def test_replication_follows_the_cluster_size() -> None:
    assert replication_for(1) == (1, 1)
    assert replication_for(3) == (3, 2)
    assert replication_for(5) == (3, 2)


def test_three_node_cluster_configuration(tmp_path: Path) -> None:
    kafka = LocalKafka(tmp_path, port=40000, nodes=3)
    assert kafka.bootstrap_servers == "127.0.0.1:40000,127.0.0.1:40001,127.0.0.1:40002"
    props = dict(
        line.split("=", 1) for line in kafka._write_config(1).read_text().splitlines()
    )
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == \
        "1@127.0.0.1:40100,2@127.0.0.1:40101,3@127.0.0.1:40102"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:40001,CONTROLLER://127.0.0.1:40101"
    assert props["min.insync.replicas"] == "2" and props["offsets.topic.replication.factor"] == "3"
    assert props["auto.create.topics.enable"] == "false"


def test_an_unreachable_broker_is_said_in_one_sentence(tmp_path: Path) -> None:
    """No Kafka where the settings point: a clear error naming the address and what to check
    (the CLI prints it without a traceback), not librdkafka's exception."""
    import socket

    from truyvet.kafka.admin import BrokerUnreachable, ensure_topics

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    s = Settings.from_env(env={}, bootstrap_servers=address, data_dir=tmp_path)
    with pytest.raises(BrokerUnreachable, match=f"Kafka at {address} did not answer within 2 s"):
        ensure_topics(s, timeout=2)
