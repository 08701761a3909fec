"""The in-memory visit index: bytes per visit and in-process answer time at 5 M visits."""

from __future__ import annotations

import gc
import resource
import time

import numpy as np

from truyvet.domain.matching.matcher import Result, encode_result, match
from bench.data import Shape, bucket_updates, itineraries
from truyvet import gc_tuning
from truyvet.codec.itinerary import from_mapping
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.rules import MatchRules


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def build(shape: Shape) -> tuple[VisitIndex, float]:
    index = VisitIndex()
    started = time.perf_counter()
    batch = []
    for u in bucket_updates(shape):
        batch.append(u)
        if len(batch) == 10_000:
            index.apply(batch)
            batch = []
    index.apply(batch)
    return index, time.perf_counter() - started


def main() -> None:
    shape = Shape()
    gc_tuning.tune()  # as the API process does
    gc.collect()
    before = rss_bytes()
    index, seconds = build(shape)
    gc.collect()
    after = rss_bytes()
    n = index.visits()
    assert n == shape.total, (n, shape.total)
    print(f"index build         {n:,} visits in {seconds:.1f}s ({n / seconds:,.0f} visits/s "
          f"applied, generation included)")
    print(f"memory              {index.nbytes() / n:.1f} bytes/visit in the visit columns; "
          f"{(after - before) / n:.1f} bytes/visit process RSS growth (cards interned: "
          f"{len(index.card_names):,})")
    rules = MatchRules()
    its = [from_mapping(i) for i in itineraries(shape, 2000)]
    for threads in (1, 2):  # the API's default (TRUYVET_MATCH_THREADS), and two
        times, json_times, contacts, size = [], [], 0, 0
        for it in its:
            t = time.perf_counter()
            stops = match(index, rules, it, threads)
            t2 = time.perf_counter()
            body = encode_result(Result(it, 1, 0, stops), index, rules.close_contact_s)
            json_times.append(time.perf_counter() - t2)
            times.append(t2 - t)
            contacts += sum(len(s.cards) for s in stops)
            size += len(body)
        ms, js = np.array(times) * 1000, np.array(json_times) * 1000
        print(f"answer in process   {threads} thread{'s' if threads > 1 else ''}: 10-stop itinerary p50 "
              f"{np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms; its JSON p50 "
              f"{np.percentile(js, 50):.2f} ms, p99 {np.percentile(js, 99):.2f} ms ({len(its)} "
              f"itineraries, 70% of stops at venues with {shape.busy_per_day:,} visits/day; "
              f"{contacts / len(its):,.0f} contacts and {size / len(its) / 1e3:,.0f} kB of JSON "
              f"per itinerary)")
