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
