"""Helpers for integration tests: read topics to their end, wait for consumer groups to catch
up, run stream workers as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, TopicPartition

from truyvet.kafka.admin import group_lag
from truyvet.settings import Settings


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


def read_all(s: Settings, topic: str, timeout: float = 30.0) -> list[Record]:
    """Every record now in ``topic``, partition by partition in offset order."""
    consumer = Consumer({"bootstrap.servers": s.bootstrap_servers, "group.id": "test-reader",
                         "enable.auto.commit": False})
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics[topic]
        assign, ends = [], {}
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
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
                              {k: v for k, v in (msg.headers() or [])}))
            if msg.offset() + 1 >= ends.get(msg.partition(), 0):
                ends.pop(msg.partition(), None)
        if ends:
            raise TimeoutError(f"{topic}: partitions {sorted(ends)} not read to the end")
        return out
    finally:
        consumer.close()


def wait_caught_up(
    s: Settings, group: str, topics: list[str], timeout: float = 60.0,
    workers: list[subprocess.Popen[bytes]] | None = None,
) -> None:
    """Until ``group`` has committed the end offset of every partition of ``topics``;
    fails at once if one of ``workers`` exits."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        for w in workers or ():
            if w.poll() is not None:
                raise RuntimeError(f"worker exited with status {w.returncode} (see its log)")
        try:
            parts = group_lag(s, group, topics)
            last = [(p.topic, p.partition, p.lag) for p in parts if p.lag]
            if parts and all(p.lag == 0 and p.committed is not None or p.end == 0 for p in parts):
                return
        except Exception as exc:  # noqa: BLE001 - the group may not exist yet
            last = exc
        time.sleep(0.5)
    raise TimeoutError(f"group {group} not caught up on {topics} after {timeout}s: {last}")


@contextmanager
def worker_process(s: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``truyvet worker`` as a child process; stopped gracefully (SIGTERM) afterwards."""
    env = {**os.environ, **s.to_env(), "PYTHONUNBUFFERED": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "truyvet", "worker"], env=env,
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
