"""The simulator publishes exactly the deterministic timeline through the real broker."""

from __future__ import annotations

import time
from pathlib import Path

from truyvet.producers.simulator.runner import SimulationConfig, run
from truyvet.producers.simulator.timeline import Timeline
from truyvet.producers.simulator.world import build_world
from tests.integration.helpers import read_all
from truyvet import topics
from truyvet.codec import checkin
from truyvet.codec import heartbeat as heartbeat_codec
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

HOUR_MS = 3600 * 1000
# six evening hours of yesterday in Vietnam (11:00 to 17:00 UTC), always in the past and well
# inside the shortest retention (heartbeats keep 3 days; records older than that are deleted by
# the broker, so a fixed date here once failed the test two weeks after it was written)
START_MS = (int(time.time() * 1000) // (24 * HOUR_MS) - 1) * 24 * HOUR_MS + 11 * HOUR_MS
END_MS = START_MS + 6 * HOUR_MS


def test_simulation_publishes_the_timeline(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings)
    cfg = SimulationConfig(seed=3, residents=800, start_ms=START_MS, end_ms=END_MS,
                           itineraries_dir=tmp_path / "itineraries")
    stats = run(settings, cfg)

    expected = []
    sent_at = {}  # heartbeat -> when the simulated scanner sent it
    for ev in Timeline(build_world(3, 800), START_MS).events():
        if ev.send_ms > END_MS:
            break
        if ev.kind == "scan":
            expected.append(ev.payload)
        elif ev.kind == "heartbeat":
            sent_at[ev.payload] = ev.send_ms
    assert stats.scans == len(expected) > 100
    got = [checkin.decode(r.value) for r in read_all(settings, topics.checkins(settings))]
    assert sorted(got) == sorted(expected)
    # a backfill's records carry the time each was sent, not the time it was published: the
    # compliance job tells how far it has read from them
    beats = {heartbeat_codec.decode(r.value): r.timestamp_ms
             for r in read_all(settings, topics.heartbeats(settings))}
    assert beats == sent_at and len(beats) > 100
