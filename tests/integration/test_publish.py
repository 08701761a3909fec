"""truyvet publish through the real broker: keys and partitions, rejects, the CLI."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import orjson
from aiokafka.partitioner import murmur2
from click.testing import CliRunner

from truyvet.producers.publish import publish_file
from tests.integration.helpers import YESTERDAY, read_all
from truyvet import topics
from truyvet.cli import main
from truyvet.codec import checkin
from truyvet.codec.deadletter import DeadLetter
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings


def _scans(n: int, venues: int = 7) -> list[dict[str, str]]:
    return [
        {
            "event_id": f"ev-{i}", "card_id": f"card-{i % 13}", "venue_id": f"venue-{i % venues}",
            "scanner_id": f"scanner-{i % venues}", "direction": "in" if i % 2 else "out",
            "scanned_at": f"{YESTERDAY}T{8 + i % 10:02d}:{i % 60:02d}:00+07:00", "method": "card",
        }
        for i in range(n)
    ]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(checkin.FIELDS))
        w.writeheader()
        w.writerows(rows)


def test_publish_csv_round_trip_keys_by_venue_into_one_partition(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings)
    rows = _scans(500)
    path = tmp_path / "scans.csv"
    _write_csv(path, rows)

    summary = publish_file(settings, path)

    assert summary.ok and summary.rows == summary.sent == summary.delivered == 500
    records = read_all(settings, topics.checkins(settings))
    assert len(records) == 500
    partitions_of_venue: dict[bytes, set[int]] = defaultdict(set)
    for r in records:
        scan = checkin.decode(r.value)
        assert r.key == scan.venue_id.encode()
        partitions_of_venue[r.key].add(r.partition)
        # murmur2, like Java clients and aiokafka (faust), so co-partitioning holds
        assert r.partition == (murmur2(r.key) & 0x7FFFFFFF) % settings.checkin_partitions
    assert all(len(p) == 1 for p in partitions_of_venue.values())
    got = sorted(checkin.decode(r.value).event_id for r in records)
    assert got == sorted(row["event_id"] for row in rows)
    by_id = {checkin.decode(r.value).event_id: checkin.decode(r.value) for r in records}
    assert by_id["ev-3"] == checkin.from_mapping(rows[3])  # same instant, same fields


def test_invalid_rows_are_reported_with_row_numbers_and_dead_lettered(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings)
    good = _scans(3)
    lines = [orjson.dumps(good[0]), b"{not json", orjson.dumps({**good[1], "direction": "sideways"}),
             b"", orjson.dumps({**good[2], "scanned_at": "2021-02-30T10:00:00Z"}),
             b"\xff\xfe garbage", orjson.dumps(good[2])]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    summary = publish_file(settings, path)

    assert summary.rows == 6 and summary.sent == 2 and summary.delivered == 2
    assert dict(summary.rejected) == {"not_json": 1, "bad_enum": 1, "bad_timestamp": 1, "not_utf8": 1}
    assert [(r.row, r.reason) for r in summary.rejected_rows] == [
        (2, "not_json"), (3, "bad_enum"), (5, "bad_timestamp"), (6, "not_utf8")]
    letters = [DeadLetter.from_record(r.value, r.key, list(r.headers.items()))
               for r in read_all(settings, topics.deadletter(settings))]
    assert sorted((d.source_row, d.reason, d.stage) for d in letters) == [
        (2, "not_json", "publish"), (3, "bad_enum", "publish"), (5, "bad_timestamp", "publish"),
        (6, "not_utf8", "publish")]
    assert {d.payload for d in letters} == {lines[1], lines[2], lines[4], lines[5]}
    assert all(d.source_file == str(path) for d in letters)


def test_publish_cli_prints_json_summary_and_refuses_a_bad_header(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings)
    path = tmp_path / "scans.csv"
    _write_csv(path, _scans(20))
    env = settings.to_env()
    result = CliRunner().invoke(main, ["publish", "--json", str(path)], env=env)
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    assert out["rows"] == out["delivered"] == 20 and out["rejected"] == {}

    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,card,venue_id\n1,2,3\n")
    result = CliRunner().invoke(main, ["publish", str(bad)], env=env)
    assert result.exit_code == 2
    assert "missing: ['card_id'" in result.output and "unknown: ['card']" in result.output
