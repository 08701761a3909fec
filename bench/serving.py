"""The tracer API at province scale: index rebuild from Kafka, match latency over HTTP (idle:
back to back, then paced; and while ingest runs at 20,000 scans/s), freshness (publish ->
matchable), and the same itineraries answered by PostgreSQL with a GiST range index, in the
same run."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import orjson

from bench import acks, children, postgres
from bench.cpu import CpuUse, compiler_s, resident_bytes
from bench.data import Shape, bucket_updates, itineraries
from bench.services import LOGS, bench_settings, free_port, stack_pids, wait_compacted
from truyvet.producers.scans import ScanPublisher
from truyvet.jobs.app import JOBS
from truyvet.kafka.partitioner import partition_of
from truyvet import topics
from truyvet.codec import visits as visits_codec
from truyvet.codec.checkin import CheckIn
from truyvet.kafka.lag import pipeline_lag
from truyvet.kafka.producer import default_backend
from truyvet.kafka.producer import DurableProducer
from truyvet.domain.matching.rules import DAY_S
from truyvet.settings import Settings

LOAD_RATE = float(os.environ.get("TRUYVET_BENCH_LOAD_RATE", "20000"))
# long enough for both ingesting phases (paced, then back to back); a load that ends first
# fails the run
LOAD_SECONDS = float(os.environ.get("TRUYVET_BENCH_LOAD_SECONDS", "120"))
REQUESTS = int(os.environ.get("TRUYVET_BENCH_REQUESTS", "1000"))
# itineraries answered before the idle phase, not counted (by PostgreSQL too): a broker just
# started compiles its large-record path meanwhile (in a throwaway probe the broker's C2
# compiler thread took 1.76 s of CPU during 400 cold POSTs, 0.62 s after 800 more)
WARM_UP = int(os.environ.get("TRUYVET_BENCH_WARM_UP", "200"))
# warm-up rounds are made until the broker's JIT compiler used less than this many cores in
# two in a row (after one such round it went back to 0.29 cores in the idle phase, run W4 of
# 2026-12-08), at most this many rounds
WARM_JIT_QUIET = 0.05
WARM_UP_ROUNDS = int(os.environ.get("TRUYVET_BENCH_WARM_UP_ROUNDS", "10"))
# F0 (the default): the cases also form clusters, which the API keeps and publishes; F1: none
CLASSIFICATION = os.environ.get("TRUYVET_BENCH_CLASSIFICATION", "F0")
# the idle phase again with this pause before each POST (ms; 0: not run): POSTs back to back
# (~100 a second here) make each request share the CPU with the one before it (its whole
# result encoded, compressed, written by the broker); paced, each meets an API and a broker
# at rest, as a tracer's does (tracers submit far fewer than a hundred a second)
PACE_MS = float(os.environ.get("TRUYVET_BENCH_PACE_MS", "100"))
# the stream jobs while ingesting: "per-job" (the default), a process per job kind, as deploy/
# runs them (a Deployment each); "one": one process runs them all, its jobs' threads sharing
# one interpreter lock -- the compliance job, not on the freshness path, then held the
# check-in path back (the worker's part of freshness, p99: 0.26 and 0.32 s per job, 1.15 and
# 0.44 s in one process, runs X1-X4 of 2026-12-08 in docs/benchmarks.md)
WORKERS = os.environ.get("TRUYVET_BENCH_WORKERS", "per-job")


def publish_visits(s: Settings, shape: Shape) -> int:
    """The shape's visits as the visit buckets the pipeline would have made, then the
    broker's compaction of them waited for (``wait_compacted``); how many visits."""
    started = time.monotonic()
    producer = DurableProducer(s, "bench-visits")
    n = 0
    for venue, day, card, visits in bucket_updates(shape):
        producer.send(topics.visits(s), visits_codec.encode_key(venue, day, card),
                      visits_codec.encode(visits_codec.Bucket(venue, day, card, visits)),
                      partition=partition_of(venue.encode(), s.checkin_partitions),
                      timestamp_ms=day * DAY_S * 1000)
        n += len(visits)
    assert producer.flush(120) == 0 and not producer.stats.failures
    print(f"published {n:,} visits as visit buckets in {time.monotonic() - started:.0f}s", flush=True)
    waited = wait_compacted(s, topics.visits(s))
    print(f"visits compacted    by the broker's cleaner {waited:.0f}s after they were published "
          f"(the API started after it: a deployment compacts as it ingests)", flush=True)
    return n


def child(s: Settings, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return children.start(s, args, log)


def start_workers(s: Settings) -> dict[str, subprocess.Popen[bytes]]:
    """The stream workers, as ``WORKERS`` says: their name in the figures -> process."""
    print(f"stream workers      {WORKERS}: " + ("one process runs every job" if WORKERS == "one"
          else "a process per job kind, as deploy/ runs them"), flush=True)
    if WORKERS == "one":
        return {"worker": child(s, ["truyvet", "worker"], LOGS / "worker.log")}
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for job in JOBS:
            started[f"worker {job}"] = child(
                s, ["truyvet", "worker", "--jobs", job, "--worker-web-port", str(free_port())],
                LOGS / f"worker-{job}.log")
    except BaseException:
        for p in started.values():
            children.stop(p)
        raise
    return started


class Client:
    def __init__(self, s: Settings) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", s.api_port, timeout=120)
        self.headers = {"Authorization": f"Bearer {s.api_token}",
                        "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=self.headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()


def wait_ready(s: Settings, proc: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError("the API exited")
        try:
            status, _ = Client(s).call("GET", "/healthz")
            if status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)


DEFAULT, WHOLE = "/api/v1/itineraries", "/api/v1/itineraries?contacts=all"


class Phase:
    """Latencies (ms) of one phase, the two answer forms interleaved request by request so
    that the machine's noise falls on both alike: a POST answered in the default form (counts,
    close contacts, cursor), a POST answered whole (``?contacts=all``, every contact: the
    form PostgreSQL's baseline computes), and a GET of the standing case's default answer."""

    def __init__(self) -> None:
        self.post: list[float] = []
        self.post_all: list[float] = []
        self.get: list[float] = []
        self.bytes_default: list[int] = []
        self.bytes_all: list[int] = []
        self.wall_s = 0.0

    def line(self, name: str) -> str:
        return (f"latency, {name:<10} default answer: POST p50 {pct(self.post, 50):.1f} ms, p99 "
                f"{pct(self.post, 99):.1f} ms; GET p50 {pct(self.get, 50):.1f} ms, p99 "
                f"{pct(self.get, 99):.1f} ms ({len(self.post)} each, "
                f"{np.mean(self.bytes_default) / 1000:.0f} kB)\n"
                f"                    whole (?contacts=all): POST p50 {pct(self.post_all, 50):.1f}"
                f" ms, p99 {pct(self.post_all, 99):.1f} ms ({len(self.post_all)}, "
                f"{np.mean(self.bytes_all) / 1000:.0f} kB); default/whole POST p50 "
                f"{pct(self.post, 50) / pct(self.post_all, 50):.2f}, p99 "
                f"{pct(self.post, 99) / pct(self.post_all, 99):.2f}")


def latencies(s: Settings, bodies: list[bytes], pause_s: float = 0.0) -> Phase:
    """Each body POSTed (default and whole answers in turn), each default one read back by
    a GET; ``pause_s`` before each POST but the first."""
    client = Client(s)
    out = Phase()
    started = time.perf_counter()
    for k, body in enumerate(bodies):
        whole = k % 2 == 1
        if pause_s and k:
            time.sleep(pause_s)
        t = time.perf_counter()
        status, payload = client.call("POST", WHOLE if whole else DEFAULT, body)
        took = (time.perf_counter() - t) * 1000
        assert status in (200, 201), payload[:200]
        if whole:
            out.post_all.append(took)
            out.bytes_all.append(len(payload))
            continue
        out.post.append(took)
        out.bytes_default.append(len(payload))
        case_id = orjson.loads(body)["case_id"]
        t = time.perf_counter()
        status, payload = client.call("GET", f"/api/v1/itineraries/{case_id}")
        out.get.append((time.perf_counter() - t) * 1000)
        assert status == 200, payload[:200]
    out.wall_s = time.perf_counter() - started
    return out


class RunQueue:
    """How long a process's main thread (the API's event loop) ran and how long it waited,
    runnable, for a CPU: the kernel's ``/proc/<pid>/task/<pid>/schedstat`` (ns), from
    construction to :meth:`line`. On a shared two-core machine the waiting is what other
    processes cost a request."""

    def __init__(self, pid: int) -> None:
        self.path = Path(f"/proc/{pid}/task/{pid}/schedstat")
        self.start, self.t0 = self._read(), time.monotonic()

    def _read(self) -> tuple[int, int] | None:
        try:
            ran, waited, _ = self.path.read_text().split()
            return int(ran), int(waited)
        except (OSError, ValueError):
            return None

    def line(self, name: str) -> str:
        end = self._read()
        if self.start is None or end is None:
            return f"API event loop,     {name}: not measured ({self.path} not readable)"
        (ran0, wait0), (ran1, wait1) = self.start, end
        ran, waited, wall = (ran1 - ran0) / 1e9, (wait1 - wait0) / 1e9, time.monotonic() - self.t0
        share = waited / (ran + waited) if ran + waited else 0.0
        return (f"API event loop,     {name}: ran {ran:.1f} s, waited for a CPU {waited:.1f} s "
                f"({share:.0%} of its runnable time) in {wall:.1f} s")


def freshness_probes(s: Settings, stop: threading.Event,
                     out: list[tuple[float, float, float]]) -> None:
    """Publish one scan at a time; time until the API's index has applied its visit bucket
    (``out``: when each was published, on the monotonic clock, that time, and the time until
    the bucket was read from the visits topic: the worker's part of it).

    The bucket's place is read from the one partition of the visits topic the probe venue
    hashes to, from its end when probing starts (the probe does not read the other
    partitions, nor the millions of records before: reading them here took CPU from the
    pipeline it measures, and kept early probes waiting for this reader, not for the API)."""
    partition = partition_of(b"PROBE", s.checkin_partitions)  # visits: partitioned by venue
    reader = default_backend(s).reader("bench-probe", **{"fetch.wait.max.ms": 5})
    _, end = reader.watermarks(topics.visits(s), partition, 10)
    reader.assign({(topics.visits(s), partition): end})
    pub = ScanPublisher(s, "bench-probe")
    client = Client(s)
    i = 0
    try:
        while not stop.is_set():
            i += 1
            now_ms = int(time.time() * 1000)
            card = f"probe-{now_ms}-{i}"
            key = visits_codec.encode_key("PROBE", now_ms // 1000 // DAY_S, card)
            t0 = time.monotonic()
            pub.publish(CheckIn(f"probe-{now_ms}-{i}", card, "PROBE", "probe", "in", now_ms, "card"))
            pub.flush()
            offset = None
            while offset is None and not stop.is_set() and time.monotonic() - t0 < 60:
                offset = next((r.offset for r in reader.consume(1000, 0.05) if r.key == key), None)
            if offset is None:
                break
            in_topic = time.monotonic() - t0
            while not stop.is_set():
                _, body = client.call("GET", "/healthz")
                if orjson.loads(body)["index_offsets"].get(str(partition), 0) > offset:
                    out.append((t0, time.monotonic() - t0, in_topic))
                    break
                time.sleep(0.005)
            time.sleep(0.2)
    finally:
        reader.close()


def warm_up(s: Settings, warm: list[dict], broker: int | None) -> None:
    """Rounds of POSTs of other cases, not counted, until the broker's JIT compiler is quiet
    in two rounds in a row (a broker that has run for a while has compiled its hot paths; one
    just started spent half a core on it in the first phase: a profile of its threads,
    2026-12-07) or ``WARM_UP_ROUNDS`` rounds were made. Each round after the first replaces
    the same cases' itineraries (every stop a minute later: a new revision published), so the
    rounds add no standing case for the phases after to re-match."""
    jits: list[float] = []
    for round_ in range(max(WARM_UP_ROUNDS, 1)):
        started = time.monotonic()
        jit0 = compiler_s(broker) if broker is not None else 0.0
        first = latencies(s, [orjson.dumps(_later(it, round_ * 60)) for it in warm])
        if broker is None:
            break
        jits.append((compiler_s(broker) - jit0) / (time.monotonic() - started))
        if len(jits) >= 2 and max(jits[-2:]) < WARM_JIT_QUIET:
            break
    said = f"; the broker's JIT compiler in each: {', '.join(f'{j:.2f}' for j in jits)} cores" \
        if jits else ""
    print(f"warm-up, not counted: {max(len(jits), 1)} rounds of {len(warm)} POSTs{said}; the "
          f"last: POST default p50 {pct(first.post, 50):.1f} ms, p99 {pct(first.post, 99):.1f} "
          f"ms", flush=True)


def _later(it: dict, seconds: int) -> dict:
    """The itinerary with every stop ``seconds`` later."""
    from truyvet.codec.timefmt import format_ms, parse_ms

    return {**it, "stops": [{**st, "from": format_ms(parse_ms(st["from"]) + seconds * 1000),
                             "to": format_ms(parse_ms(st["to"]) + seconds * 1000)}
                            for st in it["stops"]]}


def pct(a: np.ndarray | list[float], q: float) -> float:
    return float(np.percentile(np.asarray(a), q))


def main() -> None:
    if WORKERS not in ("one", "per-job"):
        raise SystemExit(f"bench serving: TRUYVET_BENCH_WORKERS is one or per-job, not {WORKERS!r}")
    shape = Shape()
    its = itineraries(shape, REQUESTS, classification=CLASSIFICATION)
    warm = [{**it, "case_id": f"{it['case_id']}-warm"}  # other itineraries, other cases
            for it in itineraries(shape, WARM_UP, seed=3, classification=CLASSIFICATION)]
    print(f"itineraries         {REQUESTS:,} of 10 stops, {CLASSIFICATION}; {WARM_UP:,} more "
          f"first to warm up (not counted)", flush=True)
    bodies = [orjson.dumps(it) for it in its]
    paced_bodies = other_cases(shape, REQUESTS // 2, 5, "paced")
    paced_ingest_bodies = other_cases(shape, REQUESTS // 4, 6, "paced-ingesting")
    with bench_settings() as s:
        n = publish_visits(s, shape)

        api = child(s, ["truyvet", "api"], LOGS / "api.log")
        workers: dict[str, subprocess.Popen[bytes]] = {}
        load = prober = None
        stop = threading.Event()
        try:
            seconds = wait_ready(s, api)
            print(f"rebuild             {n / seconds:>10,.0f} visits/s: API ready with {n:,} visits "
                  f"indexed {seconds:.1f}s after start (process start included)", flush=True)
            pids = {**stack_pids(s), "API": api.pid, "this benchmark": os.getpid()}
            if warm:
                warm_up(s, warm, pids.get("broker"))
            idle = phase(s, "idle", bodies[: REQUESTS // 2], pids,
                         note=" (10-stop itineraries, response read)")
            alone = kafka_alone(s, bodies[: REQUESTS // 2], idle)
            paced = None
            if PACE_MS > 0:
                paced = phase(s, "idle paced", paced_bodies, pids, PACE_MS / 1000,
                              f" ({PACE_MS:.0f} ms before each POST; other cases than the idle "
                              f"phase's)")

            workers = start_workers(s)
            load = child(s, ["bench.loadgen", str(LOAD_RATE), str(LOAD_SECONDS)],
                         LOGS / "loadgen.log")
            time.sleep(5)
            fresh: list[tuple[float, float, float]] = []
            prober = threading.Thread(target=freshness_probes, args=(s, stop, fresh))
            prober.start()
            pids = {**pids, **{name: w.pid for name, w in workers.items()},
                    "load generator": load.pid}
            windows: dict[str, tuple[float, float]] = {}
            if PACE_MS > 0:
                t = time.monotonic()
                phase(s, "ingesting paced", paced_ingest_bodies, pids, PACE_MS / 1000,
                      f" (while {LOAD_RATE:,.0f} scans/s are published; {PACE_MS:.0f} ms before "
                      f"each POST; other cases)")
                windows["ingesting paced"] = (t, time.monotonic())
            t = time.monotonic()
            busy = phase(s, "ingesting", bodies[REQUESTS // 2:], pids,
                         note=f" (while {LOAD_RATE:,.0f} scans/s are published; back to back)")
            windows["ingesting"] = (t, time.monotonic())
            if load.poll() is not None:  # the figures above were partly taken without the load
                raise SystemExit(f"bench serving: the load generator stopped before the "
                                 f"ingesting phases ended: raise TRUYVET_BENCH_LOAD_SECONDS "
                                 f"(now {LOAD_SECONDS:g})")
            load.wait()
            lag_at_end = pipeline_lag(s)
            stop.set()
            prober.join()
            print(f"worker lag          {lag_at_end:,} records when the load generator stopped "
                  f"({LOAD_RATE:,.0f} scans/s for {LOAD_SECONDS:g} s)", flush=True)
            print_freshness(fresh, windows)
        finally:
            stop.set()
            if prober is not None:
                prober.join()
            for p in (load, *workers.values(), api):
                children.stop(p)
    if os.environ.get("TRUYVET_BENCH_PG", "1") != "0":
        baseline(shape, its, idle, busy, warm, alone, paced)
    if not fresh:
        raise SystemExit("bench serving: the freshness figure could not be measured")


def other_cases(shape: Shape, n: int, seed: int, suffix: str) -> list[bytes]:
    """``n`` more itineraries, of cases the other phases do not submit."""
    return [orjson.dumps({**it, "case_id": f"{it['case_id']}-{suffix}"})
            for it in itineraries(shape, n, seed=seed, classification=CLASSIFICATION)]


def phase(s: Settings, name: str, bodies: list[bytes], pids: dict[str, int],
          pause_s: float = 0.0, note: str = "") -> Phase:
    """One phase's latencies, printed with what the API's event loop waited for and who used
    the cores meanwhile."""
    queue, cpu = RunQueue(pids["API"]), CpuUse(pids)
    resident = resident_bytes(pids["API"])
    out = latencies(s, bodies, pause_s)
    print(out.line(name) + note, flush=True)
    print(queue.line(name), flush=True)
    print(cpu.lines(name), flush=True)
    print(memory_line(name, out, resident, resident_bytes(pids["API"])), flush=True)
    return out


def memory_line(name: str, out: Phase, before: int | None, after: int | None) -> str:
    """What the phase's new standing cases added to the API's resident memory: every POST is
    of a case not submitted before, and each replica keeps every standing case's latest
    result whole (and its revisions of the last minutes) to answer any GET of it."""
    if before is None or after is None:
        return f"API memory,         {name}: not measured (the API's /proc/<pid>/status unread)"
    cases = len(out.post) + len(out.post_all)
    grown = after - before
    return (f"API memory,         {name}: resident {after / 2**20:,.0f} MiB, {grown / 2**20:+,.0f} "
            f"MiB over the phase for its {cases} new standing cases ({grown / cases / 1000:,.0f} kB "
            f"a case; their whole result {np.mean(out.bytes_all) / 1000:,.0f} kB as served)")


def print_freshness(fresh: list[tuple[float, float, float]],
                    windows: dict[str, tuple[float, float]]) -> None:
    """Freshness over the whole load, and of the probes published during each phase; with
    the worker's part of it (publish -> the visit bucket in its topic) and the API's (the
    bucket read from the topic -> applied to the index; the probe's reader counted in it)."""
    if not fresh:  # a figure that could not be had is said, and the run fails (in main)
        print("freshness           NOT MEASURED: no probe became matchable within 60 s",
              flush=True)
        return
    groups = {"the whole load": fresh}
    for name, (start, end) in windows.items():
        groups[f"during {name}"] = [f for f in fresh if start <= f[0] < end]
    for name, probes in groups.items():
        if probes:
            took = [total for _, total, _ in probes]
            worker = [in_topic for _, _, in_topic in probes]
            api = [total - in_topic for _, total, in_topic in probes]
            print(f"freshness           p50 {pct(took, 50):.2f} s, p99 {pct(took, 99):.2f} s from "
                  f"publish to matchable, {name} ({len(probes)} probes); the worker's part "
                  f"p50 {pct(worker, 50):.2f}, p99 {pct(worker, 99):.2f} s, the API's p50 "
                  f"{pct(api, 50):.2f}, p99 {pct(api, 99):.2f} s", flush=True)


def kafka_alone(s: Settings, bodies: list[bytes], idle: Phase) -> list[float]:
    """The acknowledgements a POST waits for, without the API (``bench.acks``), at the idle
    phase's rate of POSTs, each request sending a whole result as the idle phase's were;
    printed, and the audit record's returned (the one a POST awaits after matching)."""
    case_id = orjson.loads(bodies[0])["case_id"]
    status, whole = Client(s).call("GET", f"/api/v1/itineraries/{case_id}?contacts=all")
    assert status == 200, whole[:200]
    posts = len(idle.post) + len(idle.post_all)
    gap_s = max(0.0, idle.wall_s / posts - 0.0015)  # less the acknowledgements themselves
    took = np.array(acks.measure(s, bodies, whole, gap_s))
    both = took.sum(axis=1)
    print(f"kafka alone, idle   itinerary acknowledged p50 {pct(took[:, 0], 50):.2f} ms, p99 "
          f"{pct(took[:, 0], 99):.2f} ms; then the audit record p50 {pct(took[:, 1], 50):.2f}, "
          f"p99 {pct(took[:, 1], 99):.2f}; the two p50 {pct(both, 50):.2f}, p99 "
          f"{pct(both, 99):.2f} ms\n"
          f"                    ({len(took)} requests, {gap_s * 1000:.1f} ms apart as the idle "
          f"phase's POSTs, each sending a {len(whole) / 1000:.0f} kB result after; the API's "
          f"producers and settings, no API. POST default idle / audit record alone: p50 "
          f"{pct(idle.post, 50) / pct(took[:, 1], 50):.2f}, p99 "
          f"{pct(idle.post, 99) / pct(took[:, 1], 99):.2f})", flush=True)
    return list(took[:, 1])


def baseline(shape: Shape, its: list[dict], idle: Phase, busy: Phase, warm: list[dict],
             alone: list[float], paced: Phase | None) -> None:
    """PostgreSQL on the same visits and itineraries (warmed up by the same), and the ratios
    to the phases above."""
    pg, pg_recorded = postgres.baseline(shape, its, warm_up=warm)
    for name, times in (("queries", pg), ("recorded", pg_recorded)):
        print(f"postgresql {name:<9} p50 {pct(times, 50):.1f} ms, p99 {pct(times, 99):.1f} ms "
              f"({len(times)} itineraries, GiST index on (venue, time range), no ingest load; "
              f"recorded: with the itinerary and an audit row committed)")
    for name, times in (("queries", pg), ("recorded", pg_recorded)):
        for form, idle_ms, busy_ms in (("whole", idle.post_all, busy.post_all),
                                       ("default", idle.post, busy.post)):
            print(f"ratio, {name:<8} / {form:<7} PostgreSQL/truyvet POST idle p50 "
                  f"{pct(times, 50) / pct(idle_ms, 50):.2f}, p99 "
                  f"{pct(times, 99) / pct(idle_ms, 99):.2f}; ingesting p50 "
                  f"{pct(times, 50) / pct(busy_ms, 50):.2f}, p99 "
                  f"{pct(times, 99) / pct(busy_ms, 99):.2f} (above 1: truyvet faster)")
            if paced is not None:
                paced_ms = paced.post_all if form == "whole" else paced.post
                print(f"ratio, {name:<8} / {form:<7} PostgreSQL/truyvet POST idle paced p50 "
                      f"{pct(times, 50) / pct(paced_ms, 50):.2f}, p99 "
                      f"{pct(times, 99) / pct(paced_ms, 99):.2f} (PostgreSQL's queries back to "
                      f"back, as in the idle phase)")
    print(f"ratio, recorded / the audit record alone  p50 "
          f"{pct(pg_recorded, 50) / pct(alone, 50):.2f}, p99 "
          f"{pct(pg_recorded, 99) / pct(alone, 99):.2f}: the most any POST that awaits "
          f"its audit record's acknowledgement after matching could reach on this machine")
