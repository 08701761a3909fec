"""The compliance job through the real broker and a worker process: per-venue hour, day and
coverage records, gap states, and alerts."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from truyvet.producers.scans import ScanPublisher
from tests.integration.helpers import (
    poll_until,
    read_all,
    wait_caught_up,
    worker_process,
)
from truyvet import topics
from truyvet.codec import headcount as headcount_codec
from truyvet.codec import heartbeat as heartbeat_codec
from truyvet.codec import venue as venue_codec
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms
from truyvet.codec.venue import WEEKDAYS
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings


def test_compliance_records_and_alerts(settings: Settings, tmp_path: Path) -> None:
    s = settings
    ensure_topics(s)
    now = int(time.time())
    t0 = now - now % 3600 - 3 * 3600  # three hours ago, on the hour
    pub = ScanPublisher(s)
    for i in range(6):  # six people in, three of them out; one self-scanned the poster
        method = "venue_qr" if i == 5 else "card"
        pub.publish(CheckIn(f"c{i}", f"card{i}", "VQ", "VQ-s1", "in", (t0 + 60 * i) * 1000, method))
        if i < 3:
            pub.publish(CheckIn(f"o{i}", f"card{i}", "VQ", "VQ-s1", "out", (t0 + 1800) * 1000, "card"))
    pub.publish(CheckIn("c0", "card0", "VQ", "VQ-s1", "in", t0 * 1000, "card"))  # re-sent
    send = pub.producer.send
    send(topics.heartbeats(s), b"VQ", heartbeat_codec.encode(
        heartbeat_codec.Heartbeat("VQ-s1", "VQ", (t0 + 600) * 1000)))
    send(topics.headcounts(s), b"VQ", headcount_codec.encode(headcount_codec.Headcount(
        "hc1", "VQ", t0 * 1000, (t0 + 3600) * 1000, 20, "inspector", "inspector:1")))
    for k in range(2):
        send(topics.gaps(s), b"VQ", orjson.dumps({
            "v": 1, "gap_id": f"case{k}/0/VQ", "status": "open", "venue_id": "VQ",
            "case_id": f"case{k}", "classification": "F0", "card_id": "zz",
            "from": format_ms(t0 * 1000), "to": format_ms((t0 + 600) * 1000),
            "flagged_at": format_ms(now * 1000)}))
    send(topics.gaps(s), b"VQ", b"{not a gap")
    assert pub.flush() == 0

    with worker_process(s, tmp_path / "worker.log") as worker:
        wait_caught_up(s, 90, [worker])
        # coverage is judged once the job has read past the headcount's span: maybe a tick later
        poll_until(lambda: {orjson.loads(r.value)["kind"] for r in read_all(s, topics.alerts(s))},
                   lambda kinds: kinds == {"venue_qr", "low_coverage", "gaps"}, 30)
    records = {}
    for r in read_all(s, topics.compliance(s)):
        records[r.key.decode().split("\x1f", 1)[1]] = orjson.loads(r.value)
    hour = records[f"hour\x1f{t0 // 3600}"]
    assert (hour["scans_in"], hour["scans_out"], hour["cards"]) == (6, 3, 6)
    assert hour["by_method"] == {"card": 8, "app": 0, "venue_qr": 1}
    assert hour["heartbeats"] == 1 and hour["scanners_heard"] == 1
    day = next(v for k, v in records.items() if k.startswith("day\x1f"))
    assert (day["cards_in"], day["cards_in_out"]) == (6, 3)
    cov = records["coverage\x1fhc1"]
    assert (cov["people_counted"], cov["people_scanned"], cov["coverage"]) == (20, 6, 0.3)
    assert records["gap\x1fcase1/0/VQ"]["status"] == "open"

    dead = [r for r in read_all(s, topics.deadletter(s))]
    assert len(dead) == 1 and dict(dead[0].headers)["truyvet.dlq.stage"] == b"compliance"


def test_silence_is_judged_on_what_was_read(settings: Settings, tmp_path: Path) -> None:
    """Six hours of heartbeats published before the worker starts, and nothing else (three of
    the job's four inputs are empty): the real consumer's ends of partitions tell the job it
    has read up to now, so a venue whose scanner went quiet two hours ago is called silent as
    soon as it has caught up, and one heard throughout is not. (Judging a half-read backlog:
    tests/unit/test_compliance_silence.py.)"""
    s = settings
    ensure_topics(s)
    now = int(time.time())
    pub = ScanPublisher(s)
    send = pub.producer.send
    for vid, points in (("VGOOD", 1), ("VOFF", 1), ("VDOORS", 3)):
        send(topics.venues(s), vid.encode(), venue_codec.encode(venue_codec.from_mapping({
            "venue_id": vid, "name": vid, "district": "Thành phố Huế", "ward": "Phú Hội",
            "category": "hospital", "opening_hours": {d: ["00:00-24:00"] for d in WEEKDAYS},
            "scanning_points": points, "staff_count": 5})))
    # VDOORS: three entrances registered, door 2's scanner switched off two hours ago
    for vid, scanner, until in (("VGOOD", "VGOOD-s1", now), ("VOFF", "VOFF-s1", now - 2 * 3600),
                                ("VDOORS", "VDOORS-s1", now), ("VDOORS", "VDOORS-s3", now),
                                ("VDOORS", "VDOORS-s2", now - 2 * 3600)):
        for t in range(now - 6 * 3600, until, 600):
            send(topics.heartbeats(s), vid.encode(), heartbeat_codec.encode(
                heartbeat_codec.Heartbeat(scanner, vid, t * 1000)), timestamp_ms=t * 1000)
    assert pub.flush() == 0

    def alerts() -> list[dict]:
        return [orjson.loads(r.value) for r in read_all(s, topics.alerts(s))]

    with worker_process(s, tmp_path / "worker.log") as worker:
        wait_caught_up(s, 90, [worker])
        got = poll_until(alerts, lambda a: len(a) >= 2, 30)
    assert sorted((a["venue_id"], a["kind"]) for a in got) == [
        ("VDOORS", "silent_entrance"), ("VOFF", "silent")]
    by_kind = {a["kind"]: a for a in got}
    assert by_kind["silent"]["facts"]["minutes"] >= 119
    door = by_kind["silent_entrance"]["facts"]
    assert (door["scanner"], door["heard"], door["registered"]) == ("VDOORS-s2", 2, 3)
    assert door["minutes"] >= 119
