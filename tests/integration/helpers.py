"""Helpers for integration tests: read topics to their end, wait for consumer groups to catch
up, run stream workers as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from truyvet.kafka.config import librdkafka
from truyvet.kafka.lag import group_lag
from truyvet.kafka.retry import retrying
from truyvet.topics import pipeline_groups
from truyvet.settings import Settings

# a recent day for fixed clock times in test scans: event-stamped topics delete records older
# than their retention, so a literal date in a test stops working some weeks after it was written
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    timestamp_ms: int = -1


def read_all(s: Settings, topic: str, timeout: float = 30.0) -> list[Record]:
    """Every record now in ``topic``, partition by partition in offset order."""
    consumer = Consumer(_connection(s, **{"group.id": f"{s.topic_prefix}-test-reader",
                                          "enable.auto.commit": False}))
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics[topic]
        assign, ends = [], {}
        for p in meta.partitions:
            tp = TopicPartition(topic, p)
            low, high = retrying(lambda tp=tp: consumer.get_watermark_offsets(tp, timeout),
                                 f"watermarks of {topic}[{p}]", timeout)
            if high > low:
                assign.append(TopicPartition(topic, p, low))
                ends[p] = high
        consumer.assign(assign)
        out: list[Record] = []
        deadline = time.monotonic() + timeout
        while ends and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(msg.error())
            out.append(Record(msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(),
                              {k: v for k, v in (msg.headers() or [])}, msg.timestamp()[1]))
            if msg.offset() + 1 >= ends.get(msg.partition(), 0):
                ends.pop(msg.partition(), None)
        if ends:
            raise TimeoutError(f"{topic}: partitions {sorted(ends)} not read to the end")
        return out
    finally:
        consumer.close()


def _connection(s: Settings, **config: Any) -> dict[str, Any]:
    """A raw client's configuration: the settings' cluster and credentials (secured or not)."""
    out = librdkafka(s, **config)
    out.pop("logger")
    return out


def wait_caught_up(
    s: Settings, timeout: float = 60.0, workers: list[subprocess.Popen[bytes]] | None = None,
) -> None:
    """Until every group of the check-in path has committed the end offset of every partition
    it consumes; fails at once if one of ``workers`` exits."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        for w in workers or ():
            if w.poll() is not None:
                raise RuntimeError(f"worker exited with status {w.returncode} (see its log)")
        try:
            parts = [p for group, topics in pipeline_groups(s).items()
                     for p in group_lag(s, group, topics)]
            last = [(p.topic, p.partition, p.lag) for p in parts if p.lag]
            if parts and all(p.lag == 0 and p.committed is not None or p.end == 0 for p in parts):
                return
        except Exception as exc:  # noqa: BLE001 - a group may not exist yet
            last = exc
        time.sleep(0.3)
    raise TimeoutError(f"the check-in path is not caught up after {timeout}s: {last}")


@contextmanager
def truyvet_process(s: Settings, command: str, log: Path,
                    *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``truyvet COMMAND`` as a child process with these settings, output appended to ``log``;
    stopped gracefully (SIGTERM) afterwards, killed if it does not stop within a minute."""
    env = {**os.environ, **s.to_env(), "PYTHONUNBUFFERED": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "truyvet", command, *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def truyvet_cli(s: Settings, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess[bytes]:
    """``truyvet ARGS…`` run to completion with these settings; output captured."""
    env = {**os.environ, **s.to_env()}
    return subprocess.run([sys.executable, "-m", "truyvet", *args], env=env, capture_output=True,
                          timeout=timeout, check=False)


def worker_process(s: Settings, log: Path) -> Any:
    return truyvet_process(s, "worker", log)


def wait_worker_ready(s: Settings, worker: subprocess.Popen[bytes], timeout: float = 120.0,
                      port: int | None = None) -> None:
    """Until the worker's ``/ready`` says every job has its partitions and their state (a fault
    injected before that tests the start-up, not the fault)."""
    url = f"http://127.0.0.1:{port or s.worker_web_port}/ready"
    deadline = time.monotonic() + timeout
    while True:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker was not ready after {timeout}s")
        time.sleep(0.2)


@contextmanager
def api_process(s: Settings, log: Path, timeout: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    """``truyvet api`` as a child process, yielded once /healthz says it is ready."""
    with truyvet_process(s, "api", log) as proc:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the API exited with {proc.returncode}; see {log}")
            try:
                status, _ = http_json(s, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API was not ready after {timeout}s; see {log}")
            time.sleep(0.2)
        yield proc


def http_json(s: Settings, method: str, path: str, body: object = None,
              token: str | None = None, timeout: float = 30.0) -> tuple[int, object]:
    """One request to the tracer API; (status, decoded JSON body)."""
    from truyvet import api_client

    return api_client.call(s.api_url, s.api_token if token is None else token, method, path,
                           body, timeout=timeout)


def wait_index_caught_up(s: Settings, timeout: float = 60.0) -> None:
    """Until the API's index has applied everything now in the visits topic."""
    from confluent_kafka import Consumer as _C

    from truyvet import topics

    c = _C(_connection(s, **{"group.id": f"{s.topic_prefix}-test-x"}))
    topic = topics.visits(s)
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), 10)[1] for p in parts}
    finally:
        c.close()
    deadline = time.monotonic() + timeout
    while True:
        _, health = http_json(s, "GET", "/healthz")
        done = {int(p): o for p, o in health["index_offsets"].items()}  # type: ignore[index]
        if all(done.get(p, 0) >= end for p, end in ends.items() if end > 0):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"index at {done}, visits topic ends at {ends}")
        time.sleep(0.2)


def metrics_text(port: int, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as resp:
        return resp.read().decode()


def metric_value(text: str, name: str, labels: str = "") -> float:
    """The value of ``name{labels}`` in Prometheus text format (0 when absent)."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def group_committed(s: Settings, group: str, topic: str) -> int:
    """The sum of a group's committed offsets on a topic (0 for partitions without a commit)."""
    from truyvet.kafka.lag import group_lag

    return sum(p.committed or 0 for p in group_lag(s, group, [topic]) if p.topic == topic)


def poll_until(fetch: Any, ready: Any, timeout: float = 60.0, every: float = 0.3) -> Any:
    """``fetch()`` again until ``ready(value)``; the value, or AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout}s: {str(value)[:2000]}")
        time.sleep(every)


# --- the small world of the API tests: one venue, a case that visited it, an inspection -------
def register_venue(s: Settings, venue: str = "V1", district: str = "Thành phố Huế",
                   category: str = "cafe") -> None:
    """``venue`` in the registry (acknowledged)."""
    from tests.integration.test_compliance_api import _venue
    from truyvet import topics
    from truyvet.kafka.producer import DurableProducer

    p = DurableProducer(s, "test")
    p.send(topics.venues(s), venue.encode(), _venue(venue, district, category))
    assert p.flush() == 0


def itinerary_body(case_id: str, venue: str, now_s: int, card: str = "card-1",
                   classification: str = "F0") -> dict[str, Any]:
    """A case that was at ``venue`` from an hour to half an hour ago."""
    from truyvet.codec.timefmt import format_ms

    return {"case_id": case_id, "classification": classification, "card_id": card,
            "stops": [{"venue_id": venue, "from": format_ms((now_s - 3600) * 1000),
                       "to": format_ms((now_s - 1800) * 1000)}]}


def inspection_body(venue: str, now_s: int, inspector: str = "doan-kt-01",
                    **fields: Any) -> dict[str, Any]:
    """An inspection of ``venue`` over the last ten minutes: 5 of 5 people scanned."""
    from truyvet.codec.timefmt import format_ms

    return {"venue_id": venue, "inspector": inspector,
            "observed_from": format_ms((now_s - 600) * 1000), "observed_to": format_ms(now_s * 1000),
            "scanning_points_observed": 1, "people_counted": 5, "people_scanned": 5,
            "outcome": "compliant", **fields}
