"""State survives: a stream worker killed (SIGKILL) mid-stream and replaced, and a restarted
tracer API, leave every answer equal to the reference."""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid
from pathlib import Path

from tests.conftest import Services, _free_port
from tests.integration.helpers import (
    api_process,
    http_json,
    wait_caught_up,
    wait_index_caught_up,
    worker_process,
)
from tests.integration.test_matching_pipeline import _answers, _body, _expected, _generate, _publish
from tests.reference import reference_visits
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings


def _settings(services: Services, tmp: Path) -> Settings:
    return Settings.from_env(
        env={}, bootstrap_servers=services.bootstrap_servers, redis_url=services.redis_url,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}", data_dir=tmp / "data",
        worker_web_port=_free_port(), api_port=_free_port(), api_token="test-token",
    )


def test_killed_worker_and_restarted_api_change_no_answer(services: Services, tmp_path: Path) -> None:
    s = _settings(services, tmp_path)
    ensure_topics(s)
    rng = random.Random(7)
    now = int(time.time())
    scans, itineraries = [], []
    for k in range(4):
        a, i = _generate(rng, f"r{k}", now)
        scans += a
        itineraries += i
    half = len(scans) // 2
    retention = int(s.retention_days * 86400)

    with api_process(s, tmp_path / "api-1.log") as api:
        with worker_process(s, tmp_path / "worker-1.log") as w1:
            _publish(s, scans[:half])
            wait_caught_up(s, 90, [w1])
            # the rest arrives while the worker dies without warning
            sender = threading.Thread(target=_publish_slowly, args=(s, scans[half:]))
            sender.start()
            time.sleep(0.5)
            w1.send_signal(signal.SIGKILL)
            w1.wait()
            sender.join()
        with worker_process(s, tmp_path / "worker-2.log") as w2:
            wait_caught_up(s, 120, [w2])
            wait_index_caught_up(s)
            visits = reference_visits(scans, lambda v: 3600, now, retention)
            before = {}
            for case_id, card, stops in itineraries:
                status, res = http_json(s, "POST", "/api/v1/itineraries", _body(case_id, card, stops))
                assert status == 201
                assert _answers(res) == _expected(visits, card, stops), case_id
                before[case_id] = res
        api.terminate()
        api.wait(30)

    with api_process(s, tmp_path / "api-2.log"):  # rebuilt from Kafka alone
        for case_id, res in before.items():
            status, again = http_json(s, "GET", f"/api/v1/itineraries/{case_id}")
            assert status == 200
            assert again["stops"] == res["stops"] and again["revision"] == res["revision"]


def _publish_slowly(s: Settings, scans: list) -> None:
    for i in range(0, len(scans), 20):
        _publish(s, scans[i:i + 20])
        time.sleep(0.02)
