"""The baseline a tracer's back office would otherwise use: PostgreSQL (Debian's server,
started here) with the same visits in a table, a GiST index on (venue, time range), and a
range-overlap query per stop (contacts merged with ``range_agg``, as the contract says)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.data import Shape, bucket_updates
from truyvet.codec.timefmt import parse_ms

PORT = 35432
BIN = Path("/usr/lib/postgresql/15/bin")

CONTACTS = """
SELECT card, sum(upper(r) - lower(r))::bigint AS overlap
FROM (SELECT card, unnest(range_agg(span * int8range(%(frm)s, %(to)s))) AS r
      FROM visits
      WHERE venue = %(venue)s AND span && int8range(%(frm)s, %(to)s) AND card <> %(card)s
      GROUP BY card) merged
GROUP BY card
HAVING sum(upper(r) - lower(r)) > 0
ORDER BY overlap DESC, card
"""
VERIFIED = """
SELECT EXISTS (SELECT 1 FROM visits WHERE venue = %(venue)s AND card = %(card)s
               AND span && int8range(%(lo)s, %(hi)s, '[]'))
"""


def _as_postgres(argv: list[str]) -> list[str]:
    return argv if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *argv]


def _ensure_installed() -> None:
    if (BIN / "postgres").exists():
        return
    if os.geteuid() != 0:
        raise SystemExit("PostgreSQL 15 is needed for the baseline: apt-get install postgresql")
    subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True)


RECORDED = """
CREATE TABLE itineraries (case_id text, at timestamptz DEFAULT now(), body jsonb);
CREATE TABLE audit (case_id text, at timestamptz DEFAULT now(), principal text, action text,
                    stops int, contacts int);
"""


def baseline(shape: Shape, itineraries: list[dict], tolerance_s: int = 1800,
             warm_up: list[dict] = ()) -> tuple[list[float], list[float]]:  # type: ignore[assignment]
    """Milliseconds per itinerary (all its stops), after loading ``shape``'s visits: the
    queries alone, and the same queries in a transaction that also records the itinerary and
    an audit row, committed (``synchronous_commit = on``; with ``fsync = off`` a commit is
    written to the operating system, not to disk: what a one-broker Kafka's acknowledgement
    is). The first is the matching alone; the second the work truyvet's POST does before
    it answers (its result is also published, which this leaves out)."""
    import psycopg
    from psycopg.types.json import Jsonb

    _ensure_installed()
    data = Path(tempfile.mkdtemp(prefix="truyvet-pg-"))
    shutil.chown(data, "postgres", "postgres") if os.geteuid() == 0 else None
    pgdata = data / "data"
    subprocess.run(_as_postgres([str(BIN / "initdb"), "-D", str(pgdata), "-U", "bench",
                                 "--auth=trust", "-E", "UTF8"]), check=True,
                   stdout=subprocess.DEVNULL)
    opts = (f"-p {PORT} -c listen_addresses=127.0.0.1 -k {data} -c shared_buffers=1GB "
            "-c fsync=off -c synchronous_commit=off -c max_wal_size=4GB -c work_mem=64MB "
            "-c maintenance_work_mem=1GB")
    subprocess.run(_as_postgres([str(BIN / "pg_ctl"), "-D", str(pgdata), "-o", opts, "-w",
                                 "-l", str(data / "pg.log"), "start"]), check=True,
                   stdout=subprocess.DEVNULL)
    try:
        dsn = f"host=127.0.0.1 port={PORT} user=bench dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            t = time.monotonic()
            conn.execute("CREATE EXTENSION btree_gist")
            conn.execute("CREATE TABLE visits (venue text, card text, span int8range)")
            with conn.cursor() as cur, cur.copy("COPY visits (venue, card, span) FROM STDIN") as cp:
                for venue, _, card, visits in bucket_updates(shape):
                    for s, e in visits:
                        cp.write_row((venue, card, f"[{s},{e})"))
            conn.execute("CREATE INDEX visits_venue_span ON visits USING gist (venue, span)")
            conn.execute("ANALYZE visits")
            print(f"postgresql load     {shape.total:,} visits copied and indexed in "
                  f"{time.monotonic() - t:.0f}s", flush=True)
            conn.execute(RECORDED)

            def answer(it: dict) -> int:
                contacts = 0
                for stop in it["stops"]:
                    frm, to = parse_ms(stop["from"]) // 1000, parse_ms(stop["to"]) // 1000
                    args = {"venue": stop["venue_id"], "frm": frm, "to": to,
                            "card": it["card_id"], "lo": frm - tolerance_s, "hi": to + tolerance_s}
                    contacts += len(conn.execute(CONTACTS, args, prepare=True).fetchall())
                    conn.execute(VERIFIED, args, prepare=True).fetchone()
                return contacts

            for it in warm_up:
                answer(it)
            queries, recorded = [], []
            for k, it in enumerate(itineraries):  # the two kinds interleaved, as in serving.py
                started = time.perf_counter()
                if k % 2 == 0:
                    answer(it)
                    queries.append((time.perf_counter() - started) * 1000)
                    continue
                with conn.transaction():
                    conn.execute("SET LOCAL synchronous_commit = on")
                    conn.execute("INSERT INTO itineraries (case_id, body) VALUES (%s, %s)",
                                 (it["case_id"], Jsonb(it)), prepare=True)
                    contacts = answer(it)
                    conn.execute("INSERT INTO audit (case_id, principal, action, stops, contacts)"
                                 " VALUES (%s, 'bench', 'submit', %s, %s)",
                                 (it["case_id"], len(it["stops"]), contacts), prepare=True)
                recorded.append((time.perf_counter() - started) * 1000)
            return queries, recorded
    finally:
        subprocess.run(_as_postgres([str(BIN / "pg_ctl"), "-D", str(pgdata), "-m", "fast",
                                     "stop"]), stdout=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    from bench.data import itineraries

    shape = Shape()
    queries, recorded = baseline(shape, itineraries(shape, 400))
    for name, times in (("queries", queries), ("recorded", recorded)):
        print(f"postgresql {name:<9} p50 {np.percentile(times, 50):.1f} ms, "
              f"p99 {np.percentile(times, 99):.1f} ms per 10-stop itinerary")
