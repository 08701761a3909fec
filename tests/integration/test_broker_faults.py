"""Broker faults, on clusters of the test's own (not the session's broker):

1. a 3-node KRaft cluster (three broker processes, replication factor 3,
   ``min.insync.replicas=2``): the leader of a check-in partition — chosen as the broker that
   also coordinates the visits job's group, so the worker's jobs rebalance and rebuild their
   state while leaders move — is killed (SIGKILL) while scans are published and ingested.
   Every acknowledged scan is in Kafka exactly once, the worker goes on, and the visits it
   builds equal the reference for every card.
2. a single broker killed and restarted under load: the producer buffers and retries, every
   record sent is acknowledged once the broker is back, none is lost or written twice, and the
   worker, which lost its only broker, resumes.
3. a broker just started, asked for groups' offsets before its offsets topic exists.

Each prints what it measured: the longest a record waited for its acknowledgement (how long
producers saw the cluster unavailable) and how long the pipeline took to catch up.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.conftest import Services, free_base, own_settings
from tests.integration.helpers import (
    api_process,
    metrics_text,
    read_all,
    truyvet_process,
    wait_caught_up,
    wait_worker_ready,
    worker_process,
)
from tests.integration.pipeline_checks import differing_buckets, ref_scan, scans_held
from tests.reference import reference_visits
from truyvet import topics
from truyvet.codec import card_scan, checkin
from truyvet.codec.checkin import CheckIn
from truyvet.kafka.admin import admin_client, ensure_topics
from truyvet.kafka.config import librdkafka
from truyvet.kafka.lag import group_lag
from truyvet.kafka.producer import DurableProducer
from truyvet.devstack.kafka import CONTROLLER_PORT_OFFSET, LocalKafka
from truyvet.settings import Settings
from truyvet.topics import pipeline_groups

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

RATE = 4000  # scans/s offered by the scanners while the fault happens
SECONDS = 24  # how long they send; the fault comes at a third of it
STOPS_WITHIN_S = 30.0  # a process's stop deadline (15 s), with room for a busy machine


class RecordingProducer(DurableProducer):
    """The project's producer, also noting which scans were acknowledged and how long each
    waited for it (from its send to its delivery report; the sender polls every 10 ms)."""

    def __init__(self, s: Settings) -> None:
        # a report for every record, not only the failures (the default)
        super().__init__(s, "fault-test-scanner", **{"delivery.report.only.error": False})
        self.acked: list[str] = []
        self.longest_wait_s = 0.0
        self._sent_at: dict[bytes, float] = {}

    def send(self, topic: str, key: bytes | str | None, value: bytes | None,
             *args: object, **kwargs: object) -> None:
        self._sent_at[value or b""] = time.monotonic()
        super().send(topic, key, value, *args, **kwargs)  # type: ignore[arg-type]

    def _delivered(self, err, record) -> None:  # type: ignore[no-untyped-def]
        super()._delivered(err, record)
        value = record.value()
        sent = self._sent_at.pop(value or b"", None)
        if err is None:
            self.acked.append(checkin.decode(value or b"").event_id)
            if sent is not None:
                self.longest_wait_s = max(self.longest_wait_s, time.monotonic() - sent)


def test_partition_leader_killed_on_a_three_node_cluster(services: Services, tmp_path: Path) -> None:
    with _cluster(tmp_path, nodes=3) as kafka:
        s = _settings(services, kafka, tmp_path)
        ensure_topics(s)
        _assert_replicated(s)
        with worker_process(s, tmp_path / "worker.log") as worker:
            wait_worker_ready(s, worker)  # the fault hits a running worker, not its start-up
            scans, producer, fault_at = _send_with_fault(s, lambda: _kill_leader(s, kafka))
            killed = fault_at
            wait_caught_up(s, 300, [worker])
            caught_up = time.monotonic() - killed
            _assert_nothing_lost(s, scans, producer)
            visits = reference_visits([ref_scan(c) for c in scans], lambda v: 3600,
                                      int(time.time()), int(s.retention_days * 86_400))
            held = scans_held(metrics_text(s.worker_web_port))
            assert held == len(scans), "scans held by the visits job"
            buckets, wrong = differing_buckets(s, visits)
            assert not wrong, f"{len(wrong)} visit buckets differ from the reference: {wrong[:3]}"
        leaders = _leaders(s, topics.checkins(s))
    node, partition = KILLED[-1]
    print(f"\n3 nodes, node {node} killed (leader of check-ins partition {partition} and "
          f"coordinator of the visits group): {len(producer.acked):,} of "
          f"{len(scans):,} scans acknowledged, each once; longest wait for an acknowledgement "
          f"{producer.longest_wait_s:.2f}s; pipeline caught up {caught_up:.1f}s after the kill; "
          f"{buckets:,} visit buckets equal the reference; leaders now on nodes "
          f"{sorted(set(leaders.values()))}")


def test_single_broker_restarted_under_load(services: Services, tmp_path: Path) -> None:
    with _cluster(tmp_path, nodes=1) as kafka:
        s = _settings(services, kafka, tmp_path)
        ensure_topics(s)
        down_s = 5.0
        happened: list[str] = []  # what the fault did: a test must not pass without one

        def restart() -> None:
            [pid] = kafka.running()
            assert pid is not None, "no broker to kill"
            kafka.kill_node(0)
            assert kafka.running() == [None] and not _alive(pid), "the broker survived its kill"
            happened.append(f"killed {pid}")
            time.sleep(down_s)  # the fault itself: the broker stays away this long
            kafka.start()
            happened.append("started")

        with worker_process(s, tmp_path / "worker.log") as worker:
            wait_worker_ready(s, worker)
            scans, producer, fault_at = _send_with_fault(s, restart)
            assert len(happened) == 2, f"the fault was not injected whole: {happened}"
            # the clients saw it: some record waited for the broker to come back
            assert producer.longest_wait_s >= down_s / 2, producer.longest_wait_s
            wait_caught_up(s, 300, [worker])
            caught_up = time.monotonic() - fault_at
            _assert_nothing_lost(s, scans, producer)
            forwarded = Counter(card_scan.decode(r.value).event_id
                                for r in read_all(s, topics.scans_by_card(s)))
            assert set(forwarded) == {c.event_id for c in scans}, "the worker skipped scans"
            # and the visits job's state and output equal the reference, every card
            visits = reference_visits([ref_scan(c) for c in scans], lambda v: 3600,
                                      int(time.time()), int(s.retention_days * 86_400))
            assert scans_held(metrics_text(s.worker_web_port)) == len(scans)
            buckets, wrong = differing_buckets(s, visits)
            assert not wrong, f"{len(wrong)} visit buckets differ from the reference: {wrong[:3]}"
    print(f"\n1 node killed, {down_s:.0f}s down, restarted: {len(producer.acked):,} of "
          f"{len(scans):,} scans acknowledged, each once; longest wait for an acknowledgement "
          f"{producer.longest_wait_s:.2f}s; worker caught up {caught_up:.1f}s after the kill; "
          f"{sum(forwarded.values()) - len(forwarded):,} scans forwarded twice by the "
          f"at-least-once ingest (the visits job counts each once); {buckets:,} visit buckets "
          f"equal the reference")


# --- the scenario ------------------------------------------------------------------------------
def _reporting(fault, errors: list[BaseException]):  # type: ignore[no-untyped-def]
    def run() -> None:
        try:
            fault()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)
    return run


def _alive(pid: int) -> bool:
    """Running (a killed child not reaped yet is a zombie: dead)."""
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _send_with_fault(s: Settings, fault, seconds: int = SECONDS,
                     ) -> tuple[list[CheckIn], RecordingProducer, float]:
    """Send RATE scans/s for ``seconds``, calling ``fault()`` (in another thread) a third of the
    way; returns the scans, the producer, and when the fault began (monotonic)."""
    rng = random.Random(3)
    now_ms = int(time.time() * 1000)
    cards = [f"card-{i}" for i in range(2000)]
    venues = [f"venue-{i}" for i in range(60)]
    producer = RecordingProducer(s)
    scans: list[CheckIn] = []
    topic = topics.checkins(s)
    started = time.monotonic()
    fault_at = 0.0
    faulting: threading.Thread | None = None
    errors: list[BaseException] = []  # raised by the fault: it must not die unseen
    total = RATE * seconds
    while len(scans) < total:
        elapsed = time.monotonic() - started
        if faulting is None and elapsed >= seconds / 3:
            fault_at = time.monotonic()
            faulting = threading.Thread(target=_reporting(fault, errors))
            faulting.start()
        for _ in range(min(total, int(elapsed * RATE)) - len(scans)):
            n = len(scans)
            scan = CheckIn(f"f-{n}", rng.choice(cards), rng.choice(venues), "s1",
                           rng.choice(("in", "in", "out")),
                           now_ms - rng.randint(0, 6 * 3600_000), "card")
            producer.send(topic, scan.venue_id.encode(), checkin.encode(scan))
            scans.append(scan)
        producer.poll(0.01)
    assert faulting is not None
    faulting.join(120)
    assert not faulting.is_alive() and not errors, f"the fault failed: {errors!r}"
    assert producer.flush(330) == 0
    return scans, producer, fault_at


def _assert_nothing_lost(s: Settings, scans: list[CheckIn], producer: RecordingProducer) -> None:
    assert not producer.stats.failures, producer.stats.failures[:3]
    assert sorted(producer.acked) == sorted(c.event_id for c in scans), "not all acknowledged"
    stored = Counter(checkin.decode(r.value).event_id for r in read_all(s, topics.checkins(s)))
    assert set(stored) == set(producer.acked), "acknowledged scans missing from Kafka"
    twice = [e for e, n in stored.items() if n > 1]
    assert not twice, f"{len(twice)} scans written twice (the producer is idempotent): {twice[:3]}"


def test_a_worker_started_while_the_broker_is_away_waits_for_it(services: Services,
                                                               tmp_path: Path) -> None:
    """The worker's start-up (making sure of the topics, the registry, joining the groups)
    waits for a broker that is restarting instead of exiting; /ready says when it runs. Away
    longer than the admin client's 30 s request timeout, so that its first calls fail."""
    with _cluster(tmp_path, nodes=1) as kafka:
        s = _settings(services, kafka, tmp_path)
        ensure_topics(s)
        kafka.kill_node(0)
        with worker_process(s, tmp_path / "worker.log") as worker:
            away_until = time.monotonic() + 40
            while time.monotonic() < away_until:  # the worker tries while the broker is away
                assert worker.poll() is None, "the worker died while the broker was away"
                time.sleep(0.2)
            kafka.start()
            wait_worker_ready(s, worker, timeout=180)
            scans, producer, _ = _send_with_fault(s, lambda: None, seconds=3)
            wait_caught_up(s, 120, [worker])
            _assert_nothing_lost(s, scans, producer)
    log = (tmp_path / "worker.log").read_text()
    assert "waiting for the cluster" in log and "worker ready" in log


def test_lag_is_read_from_a_broker_that_has_just_started(services: Services,
                                                        tmp_path: Path) -> None:
    """Asked for groups' offsets before a fresh broker has made and loaded its offsets
    topic, ``group_lag`` waits for the coordinator and answers; the process does not die.
    (Through librdkafka's admin client, this question crashed the asking process with SIGSEGV
    on the broker's NOT_COORDINATOR answer: confluentinc/librdkafka#5040.) The lag equals
    what was published, the committed offsets what a consumer committed."""
    with _cluster(tmp_path, nodes=1) as kafka:
        s = _settings(services, kafka, tmp_path)
        ensure_topics(s)
        topic = topics.checkins(s)
        published = Counter[int]()
        producer = DurableProducer(s, "fresh-broker-test")
        for i in range(600):
            producer.send(topic, f"card-{i}", b"x", partition=i % 12)
            published[i % 12] += 1
        assert producer.flush(30) == 0 and not producer.stats.failures
        asks = ("import json, sys\n"
                "from truyvet.kafka.lag import group_lag\n"
                "from truyvet.settings import Settings\n"
                "s = Settings.from_env()\n"
                f"print(json.dumps([[[p.partition, p.committed, p.lag] for p in group_lag("
                f"s, f'{{s.topic_prefix}}-fresh-{{g}}', [{topic!r}], timeout=60)] "
                f"for g in range(8)]))\n")
        done = subprocess.run([sys.executable, "-c", asks], capture_output=True, text=True,
                              timeout=300, env={**os.environ, **s.to_env()})
        assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
        answers = json.loads(done.stdout)
        assert len(answers) == 8
        for answer in answers:
            assert {p: (c, lag) for p, c, lag in answer} == \
                {p: (None, n) for p, n in published.items()}
        group = f"{s.topic_prefix}-committed"
        consumer = Consumer(librdkafka(s, "fresh-broker-test", **{"group.id": group}))
        try:
            consumer.commit(offsets=[TopicPartition(topic, p, n // 2)
                                     for p, n in published.items()], asynchronous=False)
        finally:
            consumer.close()
        assert {p.partition: (p.committed, p.lag) for p in group_lag(s, group, [topic])} == \
            {p: (n // 2, n - n // 2) for p, n in published.items()}


# --- clusters ----------------------------------------------------------------------------------
@contextmanager
def _cluster(tmp_path: Path, nodes: int) -> Iterator[LocalKafka]:
    kafka = LocalKafka(tmp_path / "kafka", port=_free_base(nodes), nodes=nodes)
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.stop(30)


def _free_base(nodes: int) -> int:
    """A client port base whose ``nodes`` client and controller ports are all free."""
    return free_base(tuple(range(nodes)) + tuple(CONTROLLER_PORT_OFFSET + i for i in range(nodes)))


def _settings(services: Services, kafka: LocalKafka, tmp_path: Path) -> Settings:
    return own_settings(services, tmp_path, bootstrap_servers=kafka.bootstrap_servers)


def _leaders(s: Settings, topic: str) -> dict[int, int]:
    meta = admin_client(s).list_topics(topic, timeout=30).topics[topic]
    return {p: m.leader for p, m in meta.partitions.items()}


def _assert_replicated(s: Settings) -> None:
    from confluent_kafka.admin import ConfigResource, ResourceType

    topic = topics.checkins(s)
    admin = admin_client(s)  # kept alive until its futures are done
    meta = admin.list_topics(topic, timeout=30).topics[topic]
    assert all(len(m.replicas) == 3 and len(m.isrs) == 3 for m in meta.partitions.values())
    res = ConfigResource(ResourceType.TOPIC, topic)
    config = admin.describe_configs([res])[res].result(30)
    assert config["min.insync.replicas"].value == "2"


def _kill_leader(s: Settings, kafka: LocalKafka) -> int:
    """Kill the broker coordinating the visits job's group — the hardest case: the worker's
    session ends and its jobs rebuild their state while the cluster elects new leaders — and
    return the check-ins partition it led (every broker leads some of the 12)."""
    admin = admin_client(s)
    group = f"{s.topic_prefix}-visits"
    deadline = time.monotonic() + 30
    while True:
        try:
            node_id = admin.describe_consumer_groups([group])[group].result(10).coordinator.id
            break
        except Exception:  # noqa: BLE001 - the worker has not joined yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    led = sorted(p for p, leader in _leaders(s, topics.checkins(s)).items() if leader == node_id)
    assert led, f"node {node_id} leads no check-ins partition"
    kafka.kill_node(node_id - 1)  # node ids are 1-based
    KILLED.append((node_id, led[0]))
    return led[0]


KILLED: list[tuple[int, int]] = []  # (node, check-ins partition it led), for the report


def test_every_process_stops_promptly_on_sigterm_broker_up_or_gone(
        services: Services, tmp_path: Path) -> None:
    """SIGTERM with the broker up: the worker hands over (everything it processed committed)
    and exits 0. Then the worker, the API and the simulator, their only broker killed: each
    exits within its stop deadline instead of waiting for the broker (the worker once took
    over 20 s, the simulator for ever). What a worker processed and could not commit is
    processed again by the next owner (at-least-once)."""
    with _cluster(tmp_path, nodes=1) as kafka:
        s = _settings(services, kafka, tmp_path)
        ensure_topics(s)
        with worker_process(s, tmp_path / "first-worker.log") as first:
            wait_worker_ready(s, first, timeout=180)
            _send_with_fault(s, lambda: None, seconds=2)
            wait_caught_up(s, 120, [first])
            took = {"worker, broker up": _stop_within(first, "worker (broker up)")}
            assert first.returncode == 0
        for group, topic in pipeline_groups(s).items():  # nothing left for the next owner
            parts = group_lag(s, group, topic)
            assert parts and all(p.lag == 0 for p in parts), (group, parts)
        with worker_process(s, tmp_path / "worker.log") as worker, \
                api_process(s, tmp_path / "api.log") as api, \
                truyvet_process(s, "simulate", tmp_path / "sim.log", "--follow", "--start",
                                "-10m", "--residents", "500") as sim:
            wait_worker_ready(s, worker, timeout=180)
            _send_with_fault(s, lambda: None, seconds=2)
            wait_caught_up(s, 120, [worker])
            kafka.kill_node(0)
            for proc in (worker, api, sim):
                assert proc.poll() is None
            for name, proc in (("worker", worker), ("api", api), ("simulator", sim)):
                took[name] = _stop_within(proc, name)
        print(f"seconds from SIGTERM to exit (broker gone but the first): {took}")


def _stop_within(proc: subprocess.Popen[bytes], name: str) -> float:
    started = time.monotonic()
    proc.terminate()
    try:
        proc.wait(STOPS_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {name} did not stop within {STOPS_WITHIN_S:g}s of SIGTERM")
    return round(time.monotonic() - started, 1)
