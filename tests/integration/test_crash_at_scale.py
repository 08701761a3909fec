"""A stream worker killed (SIGKILL) while about a million scans are being ingested, with 10 %
of them re-sent and a fifth delivered up to four hours late and out of order: after a restart,
every visit bucket in Kafka, the count of scans held and every tracer answer equal the
brute-force reference (no scan lost, none counted twice).

The scans are the simulator's (a 60,000-resident province, starting 12 days back; its own
flaky scanners already send some scans up to 2 h late); its cases' itineraries are the
questions asked. ``TRUYVET_CRASH_SCANS`` sets the number of scans (default 1,000,000).
"""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from truyvet.producers.scans import ScanPublisher
from truyvet.producers.simulator.timeline import Timeline
from truyvet.producers.simulator.world import build_world
from tests.conftest import Services, _free_port, own_settings
from tests.integration.helpers import (
    api_process,
    group_committed,
    http_json,
    metrics_text,
    wait_caught_up,
    wait_index_caught_up,
    worker_process,
)
from tests.integration.pipeline_checks import differing_buckets, ref_scan, scans_held
from tests.reference import reference_stop, reference_visits
from truyvet import topics
from truyvet.codec.checkin import CheckIn
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

N_SCANS = int(os.environ.get("TRUYVET_CRASH_SCANS", "1000000"))
DWELL_S = 3600
DAY_S = 86_400
RESENT = 0.10  # share of scans sent a second time
LATE = 0.20  # share of deliveries held back ...
MAX_LATE_S = 4 * 3600  # ... by up to this long
KILL_AT = 0.15  # share of the deliveries the ingest job has committed when the worker dies
# (while the rest is still being published)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_worker_killed_during_a_million_scans_changes_nothing(services: Services,
                                                              tmp_path: Path) -> None:
    s = own_settings(services, tmp_path)
    ensure_topics(s)
    started = time.monotonic()
    scans, itineraries = _simulate(N_SCANS)
    deliveries = _disorder(scans, random.Random(5))
    print(f"\n{len(scans):,} scans, {len(deliveries):,} deliveries "
          f"({len(deliveries) - len(scans):,} re-sent), {len(itineraries)} itineraries; "
          f"generated in {time.monotonic() - started:.0f}s")

    ingest_group = next(g for g in topics.pipeline_groups(s) if g.endswith("-ingest"))
    with api_process(s, tmp_path / "api.log"):
        with worker_process(s, tmp_path / "worker-1.log") as w1:
            sender = threading.Thread(target=_publish, args=(s, deliveries), daemon=True)
            sender.start()
            kill_at = int(len(deliveries) * KILL_AT)
            while group_committed(s, ingest_group, topics.checkins(s)) < kill_at:
                assert w1.poll() is None, "the worker exited by itself"
                time.sleep(0.5)
            w1.send_signal(signal.SIGKILL)
            w1.wait()
            killed = time.monotonic()
            committed = group_committed(s, ingest_group, topics.checkins(s))
            print(f"worker killed with {committed:,} deliveries committed by ingest, "
                  f"sender {'still sending' if sender.is_alive() else 'done'}")
        second = s.replace(worker_web_port=_free_port())
        with worker_process(second, tmp_path / "worker-2.log") as w2:
            sender.join(600)
            assert not sender.is_alive(), "publishing did not finish"
            wait_caught_up(s, 900, [w2])
            print(f"caught up {time.monotonic() - killed:.0f}s after the kill; "
                  f"{_rebuilds(tmp_path / 'worker-2.log')}")
            wait_index_caught_up(s, 300)

            now = int(time.time())
            retention = int(s.retention_days * DAY_S)
            ref_scans = [ref_scan(c) for _, c in scans]
            visits = reference_visits(ref_scans, lambda v: DWELL_S, now, retention)

            held = scans_held(metrics_text(second.worker_web_port))
            assert held == len({(c, e) for c, e, *_ in ref_scans}), "scans held by the visits job"

            buckets, wrong = differing_buckets(s, visits)
            assert not wrong, f"{len(wrong)} buckets differ from the reference, e.g. {wrong[:3]}"

            by_venue = _by_venue(visits)
            asked = 0
            for it in itineraries:
                status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all", it, timeout=60)
                assert status == 201, res
                for stop, got in zip(it["stops"], res["stops"], strict=True):
                    venue = stop["venue_id"]
                    frm, to = _epoch(stop["from"]), _epoch(stop["to"])
                    relevant = dict(by_venue.get(venue, {}))
                    if it["card_id"] in visits:  # the case's own visits, for "verified"
                        relevant[it["card_id"]] = visits[it["card_id"]]
                    want = reference_stop(relevant, it["card_id"], venue, frm, to)
                    assert {k: got[k] for k in want} == want, (it["case_id"], venue)
                    asked += 1
    print(f"{held:,} scans held, {buckets:,} visit buckets and {asked} stops of "
          f"{len(itineraries)} itineraries equal the reference; "
          f"{time.monotonic() - started:.0f}s in all")


def _simulate(n: int) -> tuple[list[tuple[int, CheckIn]], list[dict]]:
    """The first ``n`` simulator scans (with their send times) and the itineraries its
    cases declared meanwhile."""
    world = build_world(11, 60_000)
    timeline = Timeline(world, int(time.time() * 1000) - 12 * DAY_S * 1000)
    scans: list[tuple[int, CheckIn]] = []
    itineraries = []
    for e in timeline.events():
        if e.kind == "scan":
            scans.append((e.send_ms, e.payload))
            if len(scans) == n:
                break
        elif e.kind == "itinerary":
            itineraries.append(e.payload)
    return scans, itineraries


def _disorder(scans: list[tuple[int, CheckIn]], rng: random.Random) -> list[CheckIn]:
    """Deliveries: every scan once, 10 % a second time, a fifth held back up to 4 h."""
    timed = []
    for send_ms, scan in scans:
        timed.append((send_ms + _delay(rng), rng.random(), scan))
        if rng.random() < RESENT:
            timed.append((send_ms + _delay(rng), rng.random(), scan))
    timed.sort(key=lambda x: x[:2])
    return [scan for _, _, scan in timed]


def _delay(rng: random.Random) -> int:
    return rng.randint(0, MAX_LATE_S * 1000) if rng.random() < LATE else 0


def _publish(s: Settings, deliveries: list[CheckIn]) -> None:
    pub = ScanPublisher(s)
    for scan in deliveries:
        pub.publish(scan)
    assert pub.flush() == 0 and not pub.producer.stats.failures


def _rebuilds(log: Path) -> str:
    """What the restarted worker's log says about rebuilding the visits job's state."""
    found = [REBUILT.search(line) for line in log.read_text(errors="replace").splitlines()]
    done = [(int(m[1]), float(m[2])) for m in found if m]
    return (f"state of {len(done)} partitions rebuilt from {sum(n for n, _ in done):,} scans "
            f"in {sum(t for _, t in done):.1f}s")


REBUILT = re.compile(r"visits: partition \d+ rebuilt from (\d+) scans .* in ([\d.]+)s")


def _by_venue(visits: dict[str, list[tuple[str, int, int]]]
              ) -> dict[str, dict[str, list[tuple[str, int, int]]]]:
    """venue -> {card: the card's visits there}: the reference asked only about what matters
    to a stop (its venue), so that 1 million scans are checked in seconds."""
    out: dict[str, dict[str, list[tuple[str, int, int]]]] = defaultdict(lambda: defaultdict(list))
    for card, vs in visits.items():
        for v in vs:
            out[v[0]][card].append(v)
    return out


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())

