"""The backend and job suites (tests/suites) on the in-memory Kafka; tests/integration/
test_kafka_backend.py runs the same suites on the real broker."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tests.suites.backend_suite import TOPIC, BackendSuite
from tests.suites.env import Env
from tests.suites.job_suite import JobSuite
from truyvet import topics
from truyvet.kafka.memory import MemoryBroker
from truyvet.settings import Settings


def _env(tmp_path: Path) -> Env:
    s = Settings.from_env(env={}, topic_prefix="mem", data_dir=tmp_path, checkin_partitions=4)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    broker.create_topic(s.topic(TOPIC), BackendSuite.PARTITIONS)

    def committed(group: str, topic: str) -> dict[int, int]:
        return {p: o for (t, p), o in broker.committed(group).items() if t == topic}

    def ends(topic: str) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for r in broker.records(topic):
            counts[r.partition] = max(counts[r.partition], r.offset + 1)
        return dict(counts)

    return Env(s, broker.backend(), broker.records, committed, ends)


class TestMemoryBackend(BackendSuite):
    @pytest.fixture
    def env(self, tmp_path: Path) -> Env:
        return _env(tmp_path)


class TestJobsOnMemory(JobSuite):
    @pytest.fixture
    def env(self, tmp_path: Path) -> Env:
        return _env(tmp_path)
