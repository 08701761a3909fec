"""What a benchmark reads of the machine and of its broker: the cleaner's checkpoint in Kafka's
file format (version, count, then ``topic partition offset``), compaction waited for until
that checkpoint stops changing, a run's stack emptied at both ends, and the cores a process
used (issue 13: a broker kept every earlier run's topics, and compacted visits during the
API's idle phase)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench import services
from bench.cpu import CpuUse
from truyvet.settings import Settings


def _checkpoint(log_dir: Path, entries: list[tuple[str, int, int]]) -> None:
    lines = ["0", str(len(entries)), *(f"{t} {p} {o}" for t, p, o in entries)]
    (log_dir / "cleaner-offset-checkpoint").write_text("\n".join(lines) + "\n")


def test_the_cleaners_checkpoint_is_read_for_one_topic_on_every_node(tmp_path: Path) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path)
    for node, entries in (("node-1", [("p.visits.v1", 0, 120), ("p.visits.v1x", 0, 7),
                                      ("p.visits.v1", 11, 5)]),
                          ("node-2", [("p.visits.v1", 3, 42), ("__consumer_offsets", 3, 9)])):
        (tmp_path / "kafka" / node / "data").mkdir(parents=True)
        _checkpoint(tmp_path / "kafka" / node / "data", entries)
    assert services._cleaned(s, "p.visits.v1") == {"node-1/0": 120, "node-1/11": 5, "node-2/3": 42}
    assert services._cleaned(s, "q.visits.v1") == {}


def test_compaction_is_waited_for_until_the_cleaner_has_stopped_moving(tmp_path: Path) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path)
    log_dir = tmp_path / "kafka" / "node-1" / "data"
    log_dir.mkdir(parents=True)
    _checkpoint(log_dir, [("t", 0, 10)])
    moved = threading.Event()

    def clean() -> None:
        time.sleep(0.5)
        _checkpoint(log_dir, [("t", 0, 10), ("t", 1, 30)])
        moved.set()

    cleaner = threading.Thread(target=clean)
    cleaner.start()
    try:
        waited = services.wait_compacted(s, "t", quiet_s=1.5, timeout_s=60)
    finally:
        cleaner.join()
    assert moved.is_set()  # returned only after the cleaner's last move, and counted it
    assert waited >= 0.5


def test_a_run_starts_from_an_empty_stack_and_leaves_none(tmp_path: Path, monkeypatch) -> None:
    stack = tmp_path / "stack"
    (stack / "kafka" / "node-1" / "data" / "old.visits.v1-0").mkdir(parents=True)
    monkeypatch.setattr(services, "STACK", stack)
    monkeypatch.setattr(services, "LOGS", tmp_path / "logs")
    # servers named from outside: nothing local is started, the run's topics are deleted
    deleted: list[str] = []
    monkeypatch.setattr(services, "delete_topics", lambda s: deleted.append(s.topic_prefix))
    monkeypatch.setattr(services, "ensure_topics", lambda s: None)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with services.bench_settings() as s:
        assert not stack.exists()  # what a killed run left is gone before this one starts
        stack.mkdir()
        (stack / "checkpoints").mkdir()
    assert not stack.exists()
    assert deleted == [s.topic_prefix]
    assert (tmp_path / "logs").is_dir()


def test_the_cores_a_process_used_are_told_apart_from_one_that_slept() -> None:
    spin = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                             "while time.process_time() - t < 0.6: pass\n"
                             "print('spun', flush=True); time.sleep(60)"], stdout=subprocess.PIPE)
    sleep = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); "
                              "time.sleep(60)"], stdout=subprocess.PIPE)
    try:
        assert sleep.stdout is not None and sleep.stdout.readline() == b"up\n"
        use = CpuUse({"spinning": spin.pid, "sleeping": sleep.pid})
        assert spin.stdout is not None and spin.stdout.readline() == b"spun\n"
        line = use.lines("test")
    finally:
        for p in (spin, sleep):
            p.kill()
            p.wait()
    shares = dict(part.rsplit(" ", 1) for part in line.split(": ", 1)[1].split(";")[0].split(", "))
    assert float(shares["spinning"]) > float(shares["sleeping"])


def test_the_acknowledgements_alone_go_to_topics_the_api_never_reads() -> None:
    """``bench.acks`` writes itineraries, audit records and results without an API: to topics
    of its own (an itinerary in the API's topic would become a standing case of the run),
    made with the catalogue's partitions and settings, under the run's prefix (deleted with
    it on servers named from outside)."""
    from bench import acks
    from truyvet import topics

    s = Settings.from_env(env={}, topic_prefix="benchx")
    made = acks.own_topics(s)
    api_reads = {topics.itineraries(s), topics.audit(s), topics.match_results(s),
                 *(spec.name for spec in topics.catalogue(s))}
    assert set(made) == {"itineraries", "audit", "results"}
    for kind, of_api in (("itineraries", topics.itineraries(s)), ("audit", topics.audit(s)),
                         ("results", topics.match_results(s))):
        spec = made[kind]
        assert spec.name not in api_reads and spec.name.startswith("benchx.")
        [original] = [t for t in topics.catalogue(s) if t.name == of_api]
        assert (spec.partitions, spec.config) == (original.partitions, original.config)


def test_a_run_on_another_runs_ports_starts_nothing_and_leaves_its_stack(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second benchmark started while one runs once emptied the first's stack directory
    under its broker, which stopped (2026-12-07); now it refuses before touching anything."""
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(services, "STACK", tmp_path / "stack")
    other_run = tmp_path / "stack" / "redis" / "data"
    other_run.mkdir(parents=True)
    with socket.socket() as held:  # the other run's Redis
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", 31379))
        held.listen()
        with pytest.raises(SystemExit, match="31379"), services.bench_settings():
            pass
    assert other_run.is_dir()
