"""Load: tracers POST itineraries at a fixed rate (open loop) while scans are ingested; errors
and latency percentiles.

    python -m bench load        (TRUYVET_BENCH_RPS=200, TRUYVET_BENCH_LOAD_SECONDS=60,
                                 TRUYVET_BENCH_LOAD_RATE=5000 scans/s, TRUYVET_BENCH_STOPS=3)

Open loop: request k is due at k / rate seconds whatever happened to the others, and its
latency is counted from when it was due, so a slow server cannot hide its queue (no
coordinated omission). Every answer other than 201 — a refusal, a timeout, a broken
connection — is an error, counted by kind. The API holds the province-scale visits of
bench/data.py (5 M) while bench/loadgen.py publishes scans and a stream worker ingests them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import numpy as np
import orjson

from truyvet.settings import Settings

RPS = float(os.environ.get("TRUYVET_BENCH_RPS", "200"))
SECONDS = float(os.environ.get("TRUYVET_BENCH_LOAD_SECONDS", "60"))
SCAN_RATE = float(os.environ.get("TRUYVET_BENCH_LOAD_RATE", "5000"))
STOPS = int(os.environ.get("TRUYVET_BENCH_STOPS", "3"))


@dataclass
class LoadResult:
    due: int  # requests scheduled
    latencies_ms: list[float] = field(default_factory=list)  # of the 201s, from when due
    errors: Counter[str] = field(default_factory=Counter)
    answer_bytes: int = 0  # of the 201s
    seconds: float = 0.0  # from the first request due to the last answer

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies_ms), q)) if self.latencies_ms else 0.0

    def summary(self) -> str:
        errors = ", ".join(f"{k} {n}" for k, n in self.errors.most_common()) or "none"
        size = self.answer_bytes / max(1, self.ok) / 1000
        return (f"{self.due:,} requests due, {self.ok:,} answered 201 ({size:,.0f} kB each on "
                f"average), errors: {errors}; "
                f"achieved {self.ok / self.seconds:,.0f} req/s; latency from when due p50 "
                f"{self.percentile(50):.1f} ms, p90 {self.percentile(90):.1f}, p99 "
                f"{self.percentile(99):.1f}, max {max(self.latencies_ms, default=0):.1f} ms")


async def _post_all(s: Settings, bodies: list[bytes], rps: float, timeout_s: float) -> LoadResult:
    result = LoadResult(due=len(bodies))
    headers = {"Authorization": f"Bearer {s.api_token}", "Content-Type": "application/json"}
    url = f"{s.api_url}/api/v1/itineraries"
    connector = aiohttp.TCPConnector(limit=0)  # open loop: never queue on the client side
    async with aiohttp.ClientSession(connector=connector, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=timeout_s)) as http:
        start = time.perf_counter()

        async def one(k: int, body: bytes) -> None:
            due = start + k / rps
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                async with http.post(url, data=body) as resp:
                    answer = await resp.read()
                    if resp.status == 201:
                        result.latencies_ms.append((time.perf_counter() - due) * 1000)
                        result.answer_bytes += len(answer)
                    else:
                        result.errors[f"HTTP {resp.status}"] += 1
            except TimeoutError:
                result.errors["timeout"] += 1
            except aiohttp.ClientError as exc:
                result.errors[type(exc).__name__] += 1

        await asyncio.gather(*(one(k, b) for k, b in enumerate(bodies)))
        result.seconds = time.perf_counter() - start
    return result


def post_at_rate(s: Settings, itineraries: list[dict], rps: float,
                 timeout_s: float = 30.0) -> LoadResult:
    """POST every itinerary, request k due at k / rps seconds; returns what happened."""
    return asyncio.run(_post_all(s, [orjson.dumps(it) for it in itineraries], rps, timeout_s))


def main() -> None:
    from bench import children
    from bench.data import Shape, itineraries
    from bench.serving import child, publish_visits, wait_ready
    from bench.services import LOGS, bench_settings
    from truyvet.kafka.lag import pipeline_lag

    shape = Shape()
    n = int(RPS * SECONDS)
    its = itineraries(shape, n, stops=STOPS, seed=5)
    for k, it in enumerate(its):
        it["case_id"] = f"load-{k}"
    with bench_settings() as s:
        visits = publish_visits(s, shape)
        api = child(s, ["truyvet", "api"], LOGS / "api.log")
        worker = load = None
        try:
            wait_ready(s, api)
            worker = child(s, ["truyvet", "worker"], LOGS / "worker.log")
            load = child(s, ["bench.loadgen", str(SCAN_RATE), str(SECONDS + 15)],
                         LOGS / "loadgen.log")
            time.sleep(10)  # the worker has joined and ingests
            result = post_at_rate(s, its, RPS)
            lag = pipeline_lag(s)
            print(f"load                {RPS:,.0f} itineraries/s of {STOPS} stops for "
                  f"{SECONDS:.0f}s, {visits:,} visits indexed, while {SCAN_RATE:,.0f} scans/s "
                  f"are published and ingested (worker lag at the end: {lag:,} records): "
                  f"{result.summary()}", flush=True)
        finally:
            for p in (load, worker, api):
                children.stop(p)
