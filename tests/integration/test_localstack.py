"""The project's own Kafka and Redis: idempotent start, topics as designed."""

from __future__ import annotations

import time

from confluent_kafka.admin import ConfigResource, ResourceType

from truyvet.kafka.admin import admin_client, ensure_topics
from truyvet.devstack.kafka import LocalKafka
from truyvet.settings import Settings
from truyvet.topics import catalogue, checkins


def test_topics_are_created_explicitly_with_partitions_and_retention(settings: Settings) -> None:
    created = ensure_topics(settings)
    assert sorted(created) == sorted(spec.name for spec in catalogue(settings))
    assert ensure_topics(settings) == []  # idempotent
    admin = admin_client(settings)
    meta = admin.list_topics(timeout=10)
    assert len(meta.topics[checkins(settings)].partitions) == 12
    res = ConfigResource(ResourceType.TOPIC, checkins(settings))
    config = admin.describe_configs([res])[res].result()
    assert config["retention.ms"].value == str(21 * 86_400_000)
    assert config["cleanup.policy"].value == "delete"
    assert config["min.insync.replicas"].value == "1"  # one broker: nothing to replicate to


def test_a_second_start_reuses_the_broker_and_a_normal_stop_keeps_every_record(tmp_path) -> None:
    import subprocess

    from tests.integration.helpers import read_all
    from truyvet.kafka.producer import DurableProducer

    kafka = LocalKafka(tmp_path / "kafka", port=29300)
    s = Settings.from_env(env={}, kafka_port=29300, topic_prefix="durability", data_dir=tmp_path)
    try:
        kafka.start()
        before = kafka.running()
        started = time.monotonic()
        kafka.start()  # a second start reuses the running broker: no JVM start, no format
        assert kafka.running() == before and before[0] is not None
        assert time.monotonic() - started < 10
        ensure_topics(s)
        producer = DurableProducer(s, "test")
        for i in range(5000):
            producer.send(checkins(s), f"v{i % 40}", f"{i}".encode())
        assert producer.flush(60) == 0 and producer.stats.delivered == 5000
        del producer
        [pid] = kafka.running()
        kafka.stop()
        assert kafka.running() == [None]
        jvms = subprocess.run(["pgrep", "-f", str(tmp_path / "kafka")], capture_output=True, text=True)
        assert jvms.stdout.strip() == "", "a broker JVM outlived stop()"
        kafka.start()
        values = sorted(int(r.value) for r in read_all(s, checkins(s)))
        assert values == list(range(5000))
    finally:
        kafka.stop()


def test_a_port_taken_while_the_broker_starts_fails_the_start_at_once(tmp_path, monkeypatch) -> None:
    """The port is free when checked, then taken (as an outgoing connection once took one in
    CI) before the JVM binds it: the node logs the failure and lingers; the start says so
    instead of waiting out its whole timeout."""
    import socket

    import pytest

    from tests.conftest import free_base
    from truyvet.devstack import kafka as kafka_module
    from truyvet.devstack.process import StartError

    port = free_base((0, 100))
    kafka = LocalKafka(tmp_path / "kafka", port=port, start_timeout=150)
    real_spawn = kafka_module.spawn
    thief = socket.socket()

    def spawn_after_the_port_is_taken(*args, **kwargs):  # type: ignore[no-untyped-def]
        thief.bind(("127.0.0.1", port))
        thief.listen()
        return real_spawn(*args, **kwargs)

    monkeypatch.setattr(kafka_module, "spawn", spawn_after_the_port_is_taken)
    try:
        with pytest.raises(StartError) as failed:
            kafka.start()
        said = str(failed.value)
        assert "could not bind" in said or "exited" in said, said
    finally:
        kafka.stop()
        thief.close()
    assert kafka.running() == [None]
