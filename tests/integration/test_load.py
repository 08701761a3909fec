"""A bounded load on loopback, in every CI run: tracers POST itineraries at a fixed rate (open
loop, bench/load.py) while a worker ingests scans published at a fixed rate; every request
must be answered 201 (no refusal, no timeout, no broken connection). Latency is printed,
never asserted (speed is measured by `python -m bench load`, docs/benchmarks.md)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from bench.load import post_at_rate
from truyvet.producers.scans import ScanPublisher
from tests.conftest import Services, own_settings
from tests.integration.helpers import api_process, wait_caught_up, worker_process
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms_local
from truyvet.kafka.admin import ensure_topics

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

RPS, SECONDS, SCANS_PER_S = 40, 15, 2000
VENUES = [f"load-V{i}" for i in range(20)]


def test_itineraries_at_a_fixed_rate_while_ingesting_are_all_answered(
        services: Services, tmp_path: Path) -> None:
    s = own_settings(services, tmp_path)
    ensure_topics(s)
    rng = random.Random(9)
    now_ms = int(time.time() * 1000)
    stop = threading.Event()
    published: list[int] = []

    def scanners() -> None:  # SCANS_PER_S scans a second until told to stop
        pub = ScanPublisher(s, "load-scanner")
        started, n = time.monotonic(), 0
        while not stop.is_set():
            due = int((time.monotonic() - started) * SCANS_PER_S)
            for _ in range(due - n):
                pub.publish(CheckIn(f"load-{n}", f"card-{rng.randrange(3000)}", rng.choice(VENUES),
                                    "s1", rng.choice(("in", "out")),
                                    now_ms - rng.randrange(3 * 3600_000), "card"))
                n += 1
            pub.producer.poll(0.01)
        assert pub.flush(60) == 0
        published.append(n)

    itineraries = [{
        "case_id": f"load-case-{k}", "classification": "F1", "card_id": f"card-{k}",
        "stops": [{"venue_id": rng.choice(VENUES),
                   "from": format_ms_local(now_ms - (h + 1) * 3600_000, 420),
                   "to": format_ms_local(now_ms - h * 3600_000, 420)} for h in range(3)],
    } for k in range(RPS * SECONDS)]

    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        sender = threading.Thread(target=scanners)
        sender.start()
        try:
            time.sleep(3)  # ingest under way
            result = post_at_rate(s, itineraries, RPS)
        finally:
            stop.set()
            sender.join(60)
        wait_caught_up(s, 120, [worker])
    print(f"\n{RPS} itineraries/s for {SECONDS}s while {SCANS_PER_S:,} scans/s were ingested "
          f"({published[0]:,} scans): {result.summary()}")
    assert not result.errors, result.summary()
    assert result.ok == RPS * SECONDS
