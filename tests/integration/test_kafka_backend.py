"""The backend and job suites (tests/suites) on the real broker, through the confluent-kafka
backend; tests/unit/test_memory_backend.py runs the same suites on the in-memory Kafka."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Services, own_settings
from tests.integration.helpers import read_all
from tests.suites.backend_suite import TOPIC, BackendSuite
from tests.suites.env import Env
from tests.suites.job_suite import JobSuite
from truyvet import topics
from truyvet.codec import checkin
from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.lag import group_lag
from truyvet.kafka.confluent import ConfluentBackend
from truyvet.kafka.record import Record


def _env(services: Services, tmp_path: Path) -> Env:
    s = own_settings(services, tmp_path, checkin_partitions=4)
    suite = topics.TopicSpec(s.topic(TOPIC), BackendSuite.PARTITIONS, "k", checkin.CODEC,
                             topics.Stamp.WRITTEN, {"cleanup.policy": "delete"})
    ensure_topics(s, [*topics.catalogue(s), suite])

    def records(topic: str) -> list[Record]:
        return [Record(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp_ms,
                       list(r.headers.items())) for r in read_all(s, topic)]

    def committed(group: str, topic: str) -> dict[int, int]:
        return {p.partition: p.committed for p in group_lag(s, group, [topic])
                if p.committed is not None}

    def ends(topic: str) -> dict[int, int]:
        return {p.partition: p.end for p in group_lag(s, f"{s.topic_prefix}-nobody", [topic])}

    return Env(s, ConfluentBackend(s), records, committed, ends)


class TestKafkaBackend(BackendSuite):
    @pytest.fixture
    def env(self, services: Services, tmp_path: Path) -> Env:
        return _env(services, tmp_path)


class TestJobsOnKafka(JobSuite):
    @pytest.fixture
    def env(self, services: Services, tmp_path: Path) -> Env:
        return _env(services, tmp_path)
