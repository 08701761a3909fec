"""Scale: the index at 5 M, 10 M and 20 M visits -- answer time, memory, checkpoint, rebuild.

Each size doubles the province of ``bench.data.Shape`` (venues and cards twice as many, the
same visits per venue a day), the way the country is many provinces: each busy venue keeps its
crowd, so a 10-stop itinerary keeps ~14,000 contacts. Each size runs in a process of its own
(so its memory is its own) and reports, in process (no Kafka, no HTTP: those are ``bench
serving`` and ``bench restart``):

- rebuild: the per-record work of a rebuild from the visits topic -- decode each bucket record
  (``visits.decode_record``) and apply it to the index -- on records encoded beforehand, in
  visits/s (reading the topic costs ~1 µs a record more: ``bench consumers``);
- memory: process RSS growth per visit, and the index's own columns;
- checkpoint: write (copy, compact, save) and load (read, check, build) times and size;
- answers: 300 itineraries of 10 stops, matched and their default answer and whole JSON made,
  p50 / p99.

``TRUYVET_BENCH_SCALE_STEPS`` (default 3) sets how many sizes, from 5 M doubling.
"""

from __future__ import annotations

import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import children
from bench.data import Shape, bucket_updates, itineraries
from bench.index import rss_bytes
from truyvet import gc_tuning
from truyvet.api.tracing import checkpoint
from truyvet.api.tracing.answers import summary_of_result
from truyvet.codec import visits as visits_codec
from truyvet.codec.itinerary import from_mapping
from truyvet.domain.matching import index_columns
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.matcher import Result, encode_result, match
from truyvet.domain.matching.rules import MatchRules

STEPS = int(os.environ.get("TRUYVET_BENCH_SCALE_STEPS", "3"))
CHUNK = 200_000  # records encoded, then decoded and applied, at a time
ANSWERS = 300


def shape_of(factor: int) -> Shape:
    base = Shape()
    return Shape(days=base.days, busy_venues=base.busy_venues * factor,
                 busy_per_day=base.busy_per_day, venues=base.venues * factor,
                 ordinary_per_day=base.ordinary_per_day, cards=base.cards * factor)


def rebuild(shape: Shape) -> tuple[VisitIndex, float]:
    """The index of ``shape``, and the seconds spent decoding and applying its records."""
    index = VisitIndex()
    spent = 0.0
    chunk: list[tuple[bytes, bytes | None]] = []

    def apply() -> float:
        t = time.perf_counter()
        index.apply([visits_codec.decode_record(k, v) for k, v in chunk])
        return time.perf_counter() - t

    for venue, day, card, visits in bucket_updates(shape):
        chunk.append((visits_codec.encode_key(venue, day, card),
                      visits_codec.encode(visits_codec.Bucket(venue, day, card, visits))))
        if len(chunk) == CHUNK:
            spent += apply()
            chunk = []
    spent += apply()
    return index, spent


def one(factor: int) -> None:
    gc_tuning.tune()  # as the API process does
    shape = shape_of(factor)
    built, seconds = rebuild(shape)
    n = built.visits()
    assert n == shape.total, (n, shape.total)

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp) / "index.ckpt"
        t = time.perf_counter()
        columns = index_columns.compacted(index_columns.take(built))
        size = checkpoint.save(where, checkpoint.Checkpoint("visits", {0: n}, 0, 21 * 86_400,
                                                            columns))
        written = time.perf_counter() - t
        # the memory a replica holds: the index as a restart loads it, in a fresh process
        # (in this one the rebuild's allocations leave memory the allocator keeps)
        held = subprocess.run([sys.executable, "-m", "bench.scale", "--load", str(where)],
                              check=True, capture_output=True, text=True,
                              preexec_fn=children._die_with_parent).stdout.split()
        grown, load_s = int(held[0]), float(held[1])
        index = built
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    rules = MatchRules()
    close_s = rules.close_contact_s
    matched, made, whole, contacts = [], [], [], 0
    for it in (from_mapping(i) for i in itineraries(shape, ANSWERS)):
        t0 = time.perf_counter()
        stops = match(index, rules, it)
        t1 = time.perf_counter()
        res = Result(it, 1, 0, stops)
        summary_of_result(res, close_s,
                          lambda c, o: index.cards.contacts_json(c, o, close_s))
        t2 = time.perf_counter()
        encode_result(res, index, close_s)
        t3 = time.perf_counter()
        matched.append(t1 - t0)
        made.append(t2 - t1)
        whole.append(t3 - t2)
        contacts += sum(len(s.cards) for s in stops)
    ms = {k: np.array(v) * 1000 for k, v in (("match", matched), ("default", made),
                                              ("whole", whole))}
    p = lambda k, q: np.percentile(ms[k], q)  # noqa: E731
    print(f"{n / 1e6:5.1f} M visits  rebuild {n / seconds:,.0f} visits/s ({seconds:.1f} s); "
          f"index as loaded {grown / n:.1f} B/visit of RSS ({grown / 2**30:.2f} GiB; columns "
          f"{index.nbytes() / n:.1f} B/visit, {len(index.card_names):,} cards; process peak "
          f"{peak / 2**30:.1f} GiB); checkpoint "
          f"{size / 2**20:,.0f} MiB written {written:.2f} s, loaded {load_s:.2f} s; answer: "
          f"match p50 {p('match', 50):.2f} / p99 {p('match', 99):.2f} ms, default answer "
          f"+{p('default', 50):.2f} / {p('default', 99):.2f} ms, whole JSON "
          f"+{p('whole', 50):.2f} / {p('whole', 99):.2f} ms ({contacts / ANSWERS:,.0f} contacts "
          f"per itinerary)", flush=True)


def main() -> None:
    for step in range(STEPS):
        # a child of its own per size; killed with this process (children._die_with_parent)
        subprocess.run([sys.executable, "-m", "bench.scale", str(2 ** step)], check=True,
                       preexec_fn=children._die_with_parent)


def load(where: Path) -> None:
    """(A child.) Load the checkpoint at ``where``; print the RSS it added and the seconds."""
    gc_tuning.tune()
    gc.collect()
    before = rss_bytes()
    t = time.perf_counter()
    index = index_columns.build(checkpoint.load(where).columns)
    took = time.perf_counter() - t
    gc.collect()
    assert index.visits() > 0
    print(rss_bytes() - before, took)


if __name__ == "__main__":
    if sys.argv[1] == "--load":
        load(Path(sys.argv[2]))
    else:
        one(int(sys.argv[1]))
