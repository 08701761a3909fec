"""Restarting the tracer API: ready after a full rebuild of the index from the visits topic,
then after restarts from its checkpoint, with the same visits (5 M by default), same run.

Each restart is a fresh process (interpreter start and imports included) stopped with SIGTERM
before it (the stop writes the checkpoint). The answers to a sample of itineraries must be the
same after every restart as after the rebuild, or the benchmark fails."""

from __future__ import annotations

import os
import time

import orjson

from bench import children
from bench.data import Shape, itineraries
from bench.serving import Client, child, publish_visits, wait_ready
from bench.services import LOGS, bench_settings
from truyvet.api.tracing import checkpoint

RESTARTS = int(os.environ.get("TRUYVET_BENCH_RESTARTS", "2"))
SAMPLE = 20
# more standing cases than the sample, submitted before the restarts: a replica reads every
# standing case's latest result (match-results.v1) before it is ready, besides its index, and
# answers again those given to it (after it is ready; a read of one answers it first)
STANDING = int(os.environ.get("TRUYVET_BENCH_STANDING", "0"))


def _health(s) -> dict:  # type: ignore[no-untyped-def]
    status, body = Client(s).call("GET", "/healthz")
    assert status == 200, status
    return orjson.loads(body)


def _answers(s, bodies: list[bytes]) -> list[object]:  # type: ignore[no-untyped-def]
    out = []
    client = Client(s)
    for body in bodies:
        status, raw = client.call("POST", "/api/v1/itineraries", body)
        assert status in (200, 201), (status, raw[:200])
        out.append(orjson.loads(raw)["stops"])
    return out


def _stopped(proc) -> None:  # type: ignore[no-untyped-def]
    children.stop(proc, grace_s=120)


def main() -> None:
    shape = Shape()
    bodies = [orjson.dumps(it) for it in itineraries(shape, SAMPLE)]
    with bench_settings() as s:
        where = checkpoint.path(s)
        n = publish_visits(s, shape)
        api = child(s, ["truyvet", "api"], LOGS / "api-restart.log")
        try:
            rebuild = wait_ready(s, api)
            restored = _health(s)["index_restored"]
            assert restored["from"] == "topic", restored
            caught_up = restored["caught_up_s"]
            print(f"full rebuild        {n / rebuild:>10,.0f} visits/s: ready {rebuild:.1f}s after "
                  f"process start, {n:,} visits; the rebuild itself (the service's start to "
                  f"caught up) {caught_up:.1f}s, {n / caught_up:,.0f} visits/s", flush=True)
            reference = _answers(s, bodies)
            if STANDING:
                more = [orjson.dumps({**it, "case_id": f"{it['case_id']}-standing"})
                        for it in itineraries(shape, STANDING, seed=9)]
                started = time.monotonic()
                _answers(s, more)
                print(f"standing cases      {SAMPLE + STANDING:,} (of 10 stops, at the benchmark's "
                      f"venues), submitted in {time.monotonic() - started:.0f}s", flush=True)
            while (written := _health(s)["index_checkpoint"]) is None:
                time.sleep(0.2)
            print(f"checkpoint written  {written['write_s']:.2f}s, {written['bytes'] / 1e6:.0f} MB "
                  f"({written['bytes'] / written['visits']:.1f} bytes a visit), answers waited "
                  f"{written['lock_held_s'] * 1000:.0f} ms while it was copied", flush=True)
            _stopped(api)
            last_case = orjson.loads(more[-1] if STANDING else bodies[-1])["case_id"]
            for i in range(RESTARTS):
                started = time.monotonic()
                api = child(s, ["truyvet", "api"], LOGS / "api-restart.log")
                ready = wait_ready(s, api)
                # a read at once: of a case the replica may not have answered again yet (then
                # it answers that one first)
                read_started = time.monotonic()
                status, _ = Client(s).call("GET", f"/api/v1/itineraries/{last_case}")
                assert status == 200, status
                read_ms = (time.monotonic() - read_started) * 1000
                while (health := _health(s))["answering_again"]:
                    time.sleep(0.02)
                answered = time.monotonic() - started
                restored = health["index_restored"]
                if restored["from"] != "checkpoint":
                    raise AssertionError(f"restart {i + 1} did not use the checkpoint: {restored}")
                if _answers(s, bodies) != reference:
                    raise AssertionError(f"restart {i + 1}: answers differ from the rebuild's")
                print(f"restart {i + 1}           ready {ready:.2f}s after process start from the "
                      f"checkpoint (loaded in {restored['load_s']:.2f}s, "
                      f"{restored['records_after']:,} records after it); "
                      f"{rebuild / ready:.1f}x faster than the rebuild; {SAMPLE} answers equal; "
                      f"{SAMPLE + STANDING:,} standing cases",
                      flush=True)
                print(f"                    every case answered again {answered:.2f}s after "
                      f"process start; a read right after ready {read_ms:.0f} ms", flush=True)
                _stopped(api)
        finally:
            children.stop(api, grace_s=10)
            where.unlink(missing_ok=True)
