"""10,000 malformed check-ins among 20,000 valid ones, through the real broker and a worker:
no crash, every malformed one dead-lettered with the reason the codec gives, every valid one
forwarded, the dead-letter guard not tripped by this (a third of the traffic) at its default."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import orjson

from truyvet.producers.scans import ScanPublisher
from truyvet.jobs.ingest import route
from truyvet.kafka.record import Record
from tests.integration.helpers import read_all, wait_caught_up, worker_process
from truyvet import topics
from truyvet.codec import card_scan
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.timefmt import format_ms
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

BAD, GOOD = 10_000, 20_000
FIELDS = ("event_id", "card_id", "venue_id", "scanner_id", "direction", "scanned_at", "method")


def _valid(n: int, now_s: int) -> dict[str, object]:
    return {"event_id": f"ok-{n}", "card_id": f"card-{n % 700}", "venue_id": f"venue-{n % 30}",
            "scanner_id": "s1", "direction": "in" if n % 2 else "out",
            "scanned_at": format_ms((now_s - n % 80_000) * 1000), "method": "card"}


def malformed(rng: random.Random, n: int, now_s: int) -> bytes | None:
    """One malformed payload: truncated JSON, wrong types, huge fields, bad UTF-8, times far in
    the future or past, versions not read, missing fields, bad enums, non-objects, empty or
    null. (Unknown fields alone are accepted: the schema evolution policy.)"""
    doc = _valid(n, now_s) | {"event_id": f"bad-{n}"}
    kind = rng.randrange(11)
    if kind == 0:
        raw = orjson.dumps(doc)
        return raw[: rng.randrange(1, len(raw) - 1)]
    if kind == 1:
        doc[rng.choice(FIELDS)] = rng.choice([0, -1, 3.5, True, None, [], {}, ["x"], {"a": 1}])
    elif kind == 2:
        doc[rng.choice(["card_id", "venue_id", "scanner_id", "event_id"])] = "x" * rng.choice(
            [129, 1000, 70_000, 300_000])
    elif kind == 3:
        raw = orjson.dumps(doc)
        i = rng.randrange(len(raw))
        return raw[:i] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88"]) + raw[i:]
    elif kind == 4:
        doc["scanned_at"] = rng.choice(["2090-01-01T00:00:00Z", "2001-01-01T00:00:00Z",
                                        "1970-01-01T00:00:00Z", "2026-13-40T99:00:00Z",
                                        "yesterday", "2026-11-26 10:00:00", ""])
    elif kind == 5:  # a version this consumer does not read (an unknown field alone is fine)
        doc["v"] = rng.choice([0, 2, 99, "1", None, 1.5])
        doc[f"x_{rng.randrange(1000)}"] = rng.choice(["", 1, None, {"deep": [1, 2]}])
    elif kind == 6:
        del doc[rng.choice(FIELDS)]
    elif kind == 7:
        doc[rng.choice(["direction", "method"])] = rng.choice(["sideways", "IN", "qr", "", "venue"])
    elif kind == 8:
        return rng.choice([b"[]", b"42", b'"a string"', b"null", b"true", b"[1,{}]"])
    elif kind == 9:
        return rng.choice([b"", b"   ", b"\x00\x01\x02", b"{", b"}{", b'{"a":1}{"b":2}'])
    else:
        return None  # a tombstone
    return orjson.dumps(doc)


def test_ten_thousand_malformed_check_ins(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings)
    rng = random.Random(2021_12_06)
    now_s = int(time.time())
    expected_reasons: Counter[str] = Counter()
    pub = ScanPublisher(settings)
    good = 0
    for n in range(BAD):
        payload = malformed(rng, n, now_s)
        verdict = route(Record(topics.checkins(settings), 0, 0, b"k", payload), now_s * 1000,
                        settings.max_future_skew_s * 1000)
        assert isinstance(verdict, DeadLetter), f"generator made a valid payload: {payload!r:.200}"
        expected_reasons[verdict.reason] += 1
        pub.publish_raw(f"venue-{n % 30}", payload)
        for _ in range(2):  # valid events around every bad one
            pub.publish_raw(f"venue-{good % 30}", orjson.dumps(_valid(good, now_s)))
            good += 1
    assert pub.flush() == 0 and not pub.producer.stats.failures
    assert good == GOOD and len(expected_reasons) >= 8

    with worker_process(settings, tmp_path / "worker.log") as worker:
        wait_caught_up(settings, 300, [worker])
        assert worker.poll() is None, "the worker died on malformed input"

    letters = [DeadLetter.from_record(r.value, r.key, list(r.headers.items()))
               for r in read_all(settings, topics.deadletter(settings), timeout=120)]
    assert len(letters) == BAD
    assert Counter(d.reason for d in letters) == expected_reasons
    assert all(d.detail and d.stage == "ingest" and d.source_offset is not None for d in letters)
    forwarded = {card_scan.decode(r.value).event_id
                 for r in read_all(settings, topics.scans_by_card(settings), timeout=120)}
    assert forwarded == {f"ok-{n}" for n in range(GOOD)}
    assert "dead-letter guard" not in (tmp_path / "worker.log").read_text()
    print(f"\nreasons: {dict(expected_reasons)}")
