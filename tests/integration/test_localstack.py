"""The project's own Kafka and Redis: idempotent start, topics as designed."""

from __future__ import annotations

import time

from confluent_kafka.admin import ConfigResource, ResourceType

from tests.conftest import TEST_DATA_DIR, TEST_KAFKA_PORT, Services
from truyvet.kafka.admin import admin_client, ensure_topics
from truyvet.localstack.kafka import LocalKafka
from truyvet.settings import Settings
from truyvet.topics import catalogue, checkins


def test_second_start_reuses_the_running_broker(services: Services) -> None:
    kafka = LocalKafka(TEST_DATA_DIR / "kafka", TEST_KAFKA_PORT)
    if kafka.bootstrap_servers != services.bootstrap_servers:
        import pytest

        pytest.skip("the session uses an external broker")
    before = kafka.running()
    started = time.monotonic()
    kafka.start()
    assert kafka.running() == before and before[0] is not None
    assert time.monotonic() - started < 10  # reused: no JVM start, no format


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
