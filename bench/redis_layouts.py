"""Redis as the visit index, measured for one busy venue-day (10,000 visits by 10,000 cards):
the figures behind choosing an in-memory index instead (docs/architecture.md)."""

from __future__ import annotations

import time

import numpy as np
import redis

from bench.services import bench_settings

VISITS = 10_000


def main() -> None:
    rng = np.random.default_rng(3)
    cards = np.arange(VISITS, dtype=np.uint32)
    starts = rng.integers(1_700_000_000, 1_700_054_000, VISITS).astype(np.uint32)
    ends = starts + rng.integers(600, 7200, VISITS).astype(np.uint32)
    with bench_settings() as s:
        r = redis.Redis.from_url(s.redis_url)
        r.flushdb()
        # (a) one hash per venue-day: card -> its packed visits (replace = HSET one field)
        pipe = r.pipeline()
        for c, a, b in zip(cards.tolist(), starts.tolist(), ends.tolist(), strict=True):
            pipe.hset("hash:V1:20000", f"C{c:07d}", np.array([a, b], np.uint32).tobytes())
        pipe.execute()
        hash_bytes = r.memory_usage("hash:V1:20000", samples=0)
        t = _time(lambda: r.hgetall("hash:V1:20000"))
        print(f"redis hash layout   {hash_bytes / VISITS:.0f} bytes/visit; HGETALL of the bucket "
              f"p50 {t[0]:.2f} ms, p99 {t[1]:.2f} ms (before any decoding)")
        # (b) one packed string per venue-day: 12-byte rows (replace = rewrite the string)
        blob = np.column_stack([cards, starts, ends]).astype(np.uint32).tobytes()
        r.set("packed:V1:20000", blob)
        packed_bytes = r.memory_usage("packed:V1:20000", samples=0)
        t = _time(lambda: np.frombuffer(r.get("packed:V1:20000"), np.uint32))
        def replace_one() -> None:
            rows = np.frombuffer(r.get("packed:V1:20000"), np.uint32).reshape(-1, 3).copy()
            rows[rows[:, 0] == 42, 2] += 1
            r.set("packed:V1:20000", rows.tobytes())
        u = _time(replace_one)
        print(f"redis packed layout {packed_bytes / VISITS:.1f} bytes/visit; GET of the bucket "
              f"p50 {t[0]:.2f} ms, p99 {t[1]:.2f} ms; replacing one card's visits (read, "
              f"rewrite {len(blob) / 1e3:.0f} kB) p50 {u[0]:.2f} ms")
        r.flushdb()


def _time(fn, n: int = 300) -> tuple[float, float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(out, 50)), float(np.percentile(out, 99))
