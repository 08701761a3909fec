"""Check-in codec: decode+validate and encode rates on one core."""

from __future__ import annotations

import itertools
import time

from truyvet.producers.simulator.timeline import Timeline
from truyvet.producers.simulator.world import build_world
from truyvet.codec import checkin
from truyvet.codec.timefmt import parse_ms


def main(n: int = 300_000) -> None:
    world = build_world(1, 20_000)
    start = parse_ms("2026-11-16T00:00:00+07:00")
    scans = [e.payload for e in itertools.islice(Timeline(world, start).events(), n)
             if e.kind == "scan"]
    payloads = [checkin.encode(s) for s in scans]
    for name, fn, items in (("encode", checkin.encode, scans), ("decode+validate", checkin.decode, payloads)):
        best = 0.0
        for _ in range(3):
            t = time.perf_counter()
            for x in items:
                fn(x)
            best = max(best, len(items) / (time.perf_counter() - t))
        print(f"{name:<16} {best:>12,.0f} scans/s  ({1e6 / best:.2f} µs each, best of 3, "
              f"{len(items):,} simulator scans)")
