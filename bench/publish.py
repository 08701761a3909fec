"""truyvet publish: rows/s from a file to the local broker, all acknowledged (acks=all)."""

from __future__ import annotations

import csv
import itertools
import tempfile
from pathlib import Path

from bench.services import bench_settings
from truyvet.producers.publish import publish_file
from truyvet.producers.simulator.timeline import Timeline
from truyvet.producers.simulator.world import build_world
from truyvet.codec import checkin
from truyvet.codec.timefmt import parse_ms
from truyvet.domain import localtime


def _write(path: Path, n: int, fmt: str) -> None:
    world = build_world(2, 50_000)
    start = parse_ms("2026-11-16T00:00:00+07:00")
    scans = (e.payload for e in Timeline(world, start).events() if e.kind == "scan")
    with open(path, "w", newline="", encoding="utf-8") as f:
        if fmt == "csv":
            w = csv.writer(f)
            w.writerow(checkin.FIELDS)
            for s in itertools.islice(scans, n):
                w.writerow([s.event_id, s.card_id, s.venue_id, s.scanner_id, s.direction,
                            localtime.format_local(s.scanned_at_ms), s.method])
        else:
            for s in itertools.islice(scans, n):
                f.write(checkin.encode(s).decode() + "\n")


def main(n: int = 500_000) -> None:
    with tempfile.TemporaryDirectory() as tmp, bench_settings() as s:
        for fmt in ("csv", "jsonl"):
            path = Path(tmp) / f"scans.{fmt}"
            _write(path, n, fmt)
            summary = publish_file(s, path)
            assert summary.ok and summary.delivered == n, summary.to_mapping()
            print(f"publish {fmt:<5} {summary.rows / summary.seconds:>10,.0f} rows/s  "
                  f"({n:,} rows in {summary.seconds:.1f}s, {path.stat().st_size / 1e6:.0f} MB, "
                  f"all acknowledged)")
