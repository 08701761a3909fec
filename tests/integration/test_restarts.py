"""State survives: a stream worker killed (SIGKILL) mid-stream and replaced, and a restarted
tracer API (from its index checkpoint, and from Kafka alone when the checkpoint is corrupt),
leave every answer equal to the reference."""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path

import orjson

from tests.conftest import Services, _free_port, own_settings
from tests.integration.helpers import (
    api_process,
    http_json,
    read_all,
    wait_caught_up,
    wait_index_caught_up,
    worker_process,
)
from tests.integration.test_matching_pipeline import _answers, _body, _expected, _generate, _publish
from tests.reference import reference_visits
from truyvet import topics
from truyvet.api.tracing import checkpoint
from truyvet.api.tracing.board import ITINERARY_HEADER, REVISION_HEADER
from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.producer import DurableProducer
from truyvet.settings import Settings


def _settings(services: Services, tmp: Path) -> Settings:
    return own_settings(services, tmp)


def test_killed_worker_and_restarted_api_change_no_answer(services: Services, tmp_path: Path) -> None:
    s = _settings(services, tmp_path)
    ensure_topics(s)
    rng = random.Random(7)
    now = int(time.time())
    scans, itineraries = _generate_groups(rng, "r", 4, now)
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
                status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all", _body(case_id, card, stops))
                assert status == 201
                assert _answers(res) == _expected(visits, card, stops), case_id
                before[case_id] = res
        api.terminate()  # a clean stop writes the index's checkpoint
        api.wait(30)
    where = checkpoint.path(s)
    assert where.exists()

    # while the API is away, a result record not written by a replica lands on its topic, the
    # next revision of a case: cut short (its JSON unreadable), or naming another case. A
    # replica takes results unread at its start and reads one when it serves it: it must
    # never serve these, but the revision before them
    spoiled = sorted(before)[:2]
    _publish_result(s, spoiled[0], before[spoiled[0]]["revision"] + 1,
                    orjson.dumps(before[spoiled[0]])[:5_000])
    _publish_result(s, spoiled[1], before[spoiled[1]]["revision"] + 1,
                    orjson.dumps({**before[spoiled[0]], "revision":
                                  before[spoiled[1]]["revision"] + 1}))
    published = _results_of(s, spoiled)
    # and one of a version this reader does not know: the owner cannot compare with it, so it
    # answers the case again, as a revision after it (numbered from 1 again, every replica
    # would keep this one)
    odd = sorted(before)[2]
    _publish_result(s, odd, before[odd]["revision"] + 1,
                    orjson.dumps({**before[odd], "v": 99, "revision": before[odd]["revision"] + 1}))

    # while the API is away, more scans become visits: a restart must read them after the
    # checkpoint's offsets
    extra_scans, extra_itineraries = _generate_groups(rng, "x", 2, now)
    with worker_process(s, tmp_path / "worker-3.log") as w3:
        _publish(s, extra_scans)
        wait_caught_up(s, 120, [w3])
    visits = reference_visits(scans + extra_scans, lambda v: 3600, now, retention)

    def same_answers() -> None:
        wait_index_caught_up(s)
        for case_id, res in before.items():
            status, again = http_json(s, "GET", f"/api/v1/itineraries/{case_id}?contacts=all")
            assert status == 200
            assert again["stops"] == res["stops"]
            assert again["revision"] == res["revision"] + (2 if case_id == odd else 0), case_id
        for case_id, card, stops in extra_itineraries:
            status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all", _body(case_id, card, stops))
            assert status in (200, 201)
            assert _answers(res) == _expected(visits, card, stops), case_id

    with api_process(s, tmp_path / "api-2.log"):  # from the checkpoint, then the records after it
        _, health = http_json(s, "GET", "/healthz")
        restored = health["index_restored"]
        assert restored["from"] == "checkpoint", restored
        assert restored["records_after"] > 0
        same_answers()
    said = (tmp_path / "api-2.log").read_text()
    assert all(f"result of {case_id} revision" in said for case_id in spoiled), said[-3000:]
    # their answers did not change: the replica kept the revision before the unreadable one,
    # as the one it answers, and published none (nor one numbered again from the first)
    assert _results_of(s, spoiled) == published

    data = bytearray(where.read_bytes())  # one bit flipped on disk: rebuilt from Kafka alone
    data[len(data) // 3] ^= 0x04
    where.write_bytes(bytes(data))
    with api_process(s, tmp_path / "api-3.log"):
        _, health = http_json(s, "GET", "/healthz")
        assert health["index_restored"]["from"] == "topic"
        assert "digest" in health["index_restored"]["reason"]
        same_answers()


def _generate_groups(rng: random.Random, tag: str, n: int, now: int) -> tuple[list, list]:
    """``n`` independent groups of cards, venues, scans and itineraries, together."""
    scans, itineraries = [], []
    for k in range(n):
        a, i = _generate(rng, f"{tag}{k}", now)
        scans += a
        itineraries += i
    return scans, itineraries


def _publish_slowly(s: Settings, scans: list) -> None:
    for i in range(0, len(scans), 20):
        _publish(s, scans[i:i + 20])
        time.sleep(0.02)


def test_two_workers_rebalancing_change_no_answer(services: Services, tmp_path: Path) -> None:
    """Two workers share the groups; one stops and starts again mid-stream, so partitions and
    their state move twice. Answers equal the reference; the API answers all along (it does not
    depend on the workers), and the longest answer during the moves is printed."""
    from tests.conftest import _free_ports

    s = _settings(services, tmp_path).replace(worker_web_port=_free_ports(2))  # A and B
    ensure_topics(s)
    rng = random.Random(11)
    now = int(time.time())
    scans, itineraries = _generate_groups(rng, "b", 6, now)
    third = len(scans) // 3
    retention = int(s.retention_days * 86400)
    probe_case, probe_card, probe_stops = itineraries[0]
    latencies: list[float] = []
    refusals: list[int] = []
    stop_probe = threading.Event()

    failures: list[str] = []  # the API not answering: the probe says so, never dies silently

    def probe() -> None:  # a tracer asking all the time
        while not stop_probe.is_set():
            started = time.monotonic()
            try:
                status, _ = http_json(s, "POST", "/api/v1/itineraries",
                                      _body(probe_case, probe_card, probe_stops), timeout=10)
            except Exception as exc:  # noqa: BLE001 - reported to the test below
                failures.append(f"{time.monotonic() - started:.1f}s: {exc!r}")
                continue
            latencies.append(time.monotonic() - started)
            if status >= 300:
                refusals.append(status)
            time.sleep(0.1)

    second = s.replace(worker_web_port=s.worker_web_port + 1)
    with api_process(s, tmp_path / "api.log"), \
            worker_process(s, tmp_path / "worker-a.log") as wa:
        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        with worker_process(second, tmp_path / "worker-b.log") as wb:
            _publish_slowly(s, scans[:third])
            wb.terminate()  # B leaves: its partitions and their state move to A
            _publish_slowly(s, scans[third:2 * third])
            wb.wait(60)
        back = s.replace(worker_web_port=_free_port())  # B's old port may be taken by now
        with worker_process(back, tmp_path / "worker-b2.log") as wb2:  # B is back
            _publish_slowly(s, scans[2 * third:])
            wait_caught_up(s, 120, [wa, wb2])
            wait_index_caught_up(s)
            stop_probe.set()
            prober.join(30)
            assert not prober.is_alive(), "the probe is stuck: the API stopped answering"
            visits = reference_visits(scans, lambda v: 3600, now, retention)
            for case_id, card, stops in itineraries:
                status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all", _body(case_id, card, stops))
                assert status in (200, 201)
                assert _answers(res) == _expected(visits, card, stops), case_id
    assert not failures, failures
    assert not refusals, refusals
    assert len(latencies) > 10
    print(f"\nAPI during the moves: {len(latencies)} answers, longest {max(latencies):.3f}s, "
          f"refused {len(refusals)}")


def _publish_result(s: Settings, case_id: str, revision: int, raw: bytes) -> None:
    """A record on the match-results topic as a replica writes one (its headers too)."""
    p = DurableProducer(s, "test")
    p.send(topics.match_results(s), case_id.encode(), raw,
           headers=[(ITINERARY_HEADER, b"0"), (REVISION_HEADER, str(revision).encode())])
    assert p.flush() == 0


def _results_of(s: Settings, case_ids: list[str]) -> list[tuple[bytes, bytes]]:
    return [(r.key, r.value) for r in read_all(s, topics.match_results(s))
            if r.key is not None and r.value is not None and r.key.decode() in case_ids]
