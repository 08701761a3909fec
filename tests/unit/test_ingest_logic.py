from __future__ import annotations

import orjson

from truyvet.jobs.ingest import route
from truyvet.kafka.record import Record
from truyvet.codec.checkin import CheckIn
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.timefmt import parse_ms

NOW = parse_ms("2026-11-26T12:00:00Z")


def record(value: bytes | None, key: bytes | None) -> Record:
    return Record("t.checkins.v1", 3, 42, key, value)


DOC = {"event_id": "e", "card_id": "c", "venue_id": "v", "scanner_id": "s", "direction": "in",
       "scanned_at": "2026-11-26T12:30:00Z", "method": "card"}


def test_valid_scan_passes() -> None:
    out = route(record(orjson.dumps(DOC), b"v"), NOW, 3_600_000)
    assert isinstance(out, CheckIn) and out.card_id == "c"


def test_refusals_carry_reason_source_and_original_bytes() -> None:
    raw = orjson.dumps({**DOC, "scanned_at": "2026-11-26T13:00:01Z"})
    out = route(record(raw, b"v"), NOW, 3_600_000)
    assert isinstance(out, DeadLetter)
    assert out.reason == "timestamp_in_future" and out.payload == raw and out.key == b"v"
    assert (out.source_topic, out.source_partition, out.source_offset) == ("t.checkins.v1", 3, 42)
    assert out.stage == "ingest" and out.failed_at_ms == NOW
    headers = dict(out.headers())
    assert headers["truyvet.dlq.reason"] == b"timestamp_in_future"
    assert headers["truyvet.dlq.source.offset"] == b"42"
    assert DeadLetter.from_record(out.payload, out.key, out.headers()) == out


def test_null_value_is_refused_not_skipped() -> None:
    out = route(record(None, b"v"), NOW, 0)
    assert isinstance(out, DeadLetter) and out.reason == "not_json" and out.payload == b""


def test_routing_is_deterministic() -> None:
    raw = orjson.dumps({**DOC, "direction": "x"})
    assert route(record(raw, None), NOW, 0) == route(record(raw, None), NOW, 0)


def test_card_scan_round_trip_and_legacy_records() -> None:
    from truyvet.codec import card_scan, checkin

    scan = checkin.decode(orjson.dumps(DOC))
    assert card_scan.decode(card_scan.encode(scan)) == scan
    assert card_scan.decode(orjson.dumps(DOC)) == scan  # a check-in v1 object is read too
    for bad in (b"[2, 1]", b'[1, "e", "c", "v", "s", "sideways", 1, "card"]', b"42"):
        try:
            card_scan.decode(bad)
            raise AssertionError(bad)
        except InvalidEvent:
            pass
