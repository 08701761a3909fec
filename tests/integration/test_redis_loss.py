"""Redis lost — flushed, then stopped and restarted empty (no persistence): answers never
change (the API answers from memory rebuilt from Kafka), submissions go on while it is down,
and the API writes every result into Redis again once it is back. Times are printed."""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

import orjson
import redis

from tests.conftest import Services, _free_port
from tests.integration.helpers import (api_process, http_json, wait_caught_up,
                                       wait_index_caught_up, worker_process)
from tests.integration.test_matching_pipeline import (DWELL_S, _answers, _body, _expected,
                                                      _generate, _publish)
from tests.reference import reference_visits
from truyvet.kafka.admin import ensure_topics
from truyvet.devstack.redis import LocalRedis
from truyvet.settings import Settings


def test_redis_loss_changes_no_answer(services: Services, tmp_path: Path) -> None:
    own = LocalRedis(tmp_path / "redis", _free_port())
    own.start()
    try:
        _scenario(services, own, tmp_path)
    finally:
        own.stop()


def _scenario(services: Services, own: LocalRedis, tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers, redis_url=own.url,
                          topic_prefix=f"t{uuid.uuid4().hex[:10]}", data_dir=tmp_path,
                          worker_web_port=_free_port(), api_port=_free_port(), api_token="test-token-0123456789abcdefghijklmnopqrstuv")
    ensure_topics(s)
    now = int(time.time())
    scans, itineraries = _generate(random.Random(7), "r", now)
    _publish(s, scans)
    visits = reference_visits(scans, lambda v: DWELL_S, now, int(s.retention_days * 86400))
    r = redis.Redis.from_url(own.url)
    keys = lambda: {k.decode().rsplit(":", 1)[1] for k in r.keys(f"{s.topic_prefix}:result:*")}  # noqa: E731

    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        wait_caught_up(s, 90, [worker])
        wait_index_caught_up(s)
        *before, last = itineraries
        for case_id, card, stops in before:
            status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all", _body(case_id, card, stops))
            assert status == 201 and _answers(res) == _expected(visits, card, stops)
        cases = {c for c, _, _ in before}
        assert _until(lambda: keys() >= cases, 10)
        # Redis holds counts, never who: no contact, no card id
        for case_id, card, stops in before:
            held = orjson.loads(r.get(f"{s.topic_prefix}:result:{case_id}"))
            expected = _expected(visits, card, stops)
            assert held["case_id"] == case_id and held["stops"] == len(stops)
            assert held["contacts"] == sum(len(e["contacts"]) for e in expected)
            assert held["gaps"] == sum(1 for e in expected if e["gap"])
            assert not card or card.encode() not in r.get(f"{s.topic_prefix}:result:{case_id}")

        r.flushall()  # lost
        refill_s = _until(lambda: keys() >= cases, 30)
        print(f"\nRedis flushed: every result back in {refill_s:.2f}s")

        own.stop()  # down: tracers keep working
        case_id, card, stops = last
        started = time.monotonic()
        status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all", _body(case_id, card, stops))
        down_s = time.monotonic() - started
        assert status == 201 and _answers(res) == _expected(visits, card, stops)
        print(f"submission while Redis is down answered in {down_s:.2f}s")
        own.start()  # back, empty
        refill_s = _until(lambda: keys() >= cases | {case_id}, 30)
        print(f"Redis restarted empty: every result back in {refill_s:.2f}s")
        for case_id, card, stops in itineraries:
            status, res = http_json(s, "GET", f"/api/v1/itineraries/{case_id}?contacts=all")
            assert status == 200 and _answers(res) == _expected(visits, card, stops), case_id


def _until(ready, timeout: float) -> float:
    """Seconds until ``ready()``; fails after ``timeout``."""
    started = time.monotonic()
    while True:
        try:
            if ready():
                return time.monotonic() - started
        except redis.ConnectionError:
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not ready after {timeout}s")
        time.sleep(0.1)
