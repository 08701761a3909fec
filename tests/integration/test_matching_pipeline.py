"""The matching contract through the real pipeline: Kafka, the stream worker (ingest and
visits), the tracer API's index and HTTP. Generated scans, with duplicates, out-of-order
and late arrival, missing exit scans and out scans without in, must give exactly the answers
of the brute-force reference; late scans must change stored results, visibly over SSE."""

from __future__ import annotations

import random
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from truyvet.producers.scans import ScanPublisher
from tests.integration.helpers import (
    api_process,
    http_json,
    read_all,
    wait_caught_up,
    wait_index_caught_up,
    worker_process,
)
from tests.reference import reference_stop, reference_visits
from truyvet import topics
from truyvet.api.tracing.answers import CLOSE_SHOWN
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms_local
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

DWELL_S = 3600


@dataclass(frozen=True)
class Pipeline:
    s: Settings
    worker: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def pipeline(services, tmp_path_factory) -> Iterator[Pipeline]:
    from tests.conftest import own_settings

    tmp = tmp_path_factory.mktemp("pipeline")
    s = own_settings(services, tmp)
    ensure_topics(s)
    with worker_process(s, tmp / "worker.log") as worker, api_process(s, tmp / "api.log"):
        yield Pipeline(s, worker)


def _generate(rng: random.Random, tag: str, now: int):
    cards = [f"{tag}-card-{i}" for i in range(12)]
    venues = [f"{tag}-V{i}" for i in range(4)]
    base = now - 6 * 3600
    scans = []
    for n in range(rng.randint(40, 160)):
        t = base + 60 * rng.randint(0, 300) if rng.random() < 0.85 else now - rng.randint(0, 2 * 86400)
        scans.append((rng.choice(cards), f"{tag}-e{n}", rng.choice(venues[:2] * 3 + venues[2:]),
                      rng.choice(["in", "in", "out"]), t))
    arrival = scans + [rng.choice(scans) for _ in range(len(scans) // 10)]  # re-sent
    rng.shuffle(arrival)  # out of order
    itineraries = []
    for k in range(6):
        card = rng.choice(cards + [None])
        stops = []
        for _ in range(rng.randint(1, 4)):
            frm = base + 60 * rng.randint(0, 300)
            stops.append((rng.choice(venues), frm, frm + 60 * rng.randint(5, 240)))
        itineraries.append((f"{tag}-case-{k}", card, stops))
    return arrival, itineraries


def _publish(s: Settings, scans) -> None:
    pub = ScanPublisher(s)
    for card, event_id, venue, direction, t in scans:
        pub.publish(CheckIn(event_id, card, venue, "scanner-1", direction, t * 1000, "card"))
    assert pub.flush() == 0 and not pub.producer.stats.failures


def _settle(p: Pipeline) -> None:
    s = p.s
    wait_caught_up(s, 90, [p.worker])
    wait_index_caught_up(s)


def _body(case_id, card, stops) -> dict:
    return {"case_id": case_id, "classification": "F0", "card_id": card,
            "stops": [{"venue_id": v, "from": format_ms_local(a * 1000, 420),
                       "to": format_ms_local(b * 1000, 420)} for v, a, b in stops]}


def _expected(visits, card, stops) -> list[dict]:
    return [reference_stop(visits, card, v, a, b) for v, a, b in stops]


def _answers(result: dict) -> list[dict]:
    """What a whole result (``?contacts=all``) says per stop."""
    return [{"verified": s["verified"], "gap": s["gap"], "contacts": s["contacts"]}
            for s in result["stops"]]


def _default_of(expected: list[dict]) -> list[dict]:
    """What the default answer must say per stop, from the reference: the counts and the
    close contacts, at most CLOSE_SHOWN."""
    out = []
    for e in expected:
        close = [c for c in e["contacts"] if c["close_contact"]]
        out.append({"verified": e["verified"], "gap": e["gap"],
                    "counts": {"contacts": len(e["contacts"]), "close_contacts": len(close)},
                    "contacts": close[:CLOSE_SHOWN]})
    return out


def _f1_of(expected: list[dict]) -> list[tuple[str, bool, int]]:
    """The F1 list from the reference's stops: each card once, close at any stop, its total
    overlap; close first, then by overlap, then card."""
    per: dict[str, list[dict]] = {}
    for e in expected:
        for c in e["contacts"]:
            per.setdefault(c["card_id"], []).append(c)
    rows = [(card, any(c["close_contact"] for c in cs), sum(c["overlap_s"] for c in cs))
            for card, cs in per.items()]
    return sorted(rows, key=lambda r: (not r[1], -r[2], r[0]))


def _f1_rows(body: dict) -> list[tuple[str, bool, int]]:
    return [(c["card_id"], c["close_contact"], c["overlap_s"]) for c in body["f1"]]


def _csv_cards(s: Settings, case_id: str) -> list[str]:
    """The card ids of the case's F1 CSV, as a spreadsheet reads it."""
    import csv
    import io

    req = urllib.request.Request(f"{s.api_url}/api/v1/itineraries/{case_id}/f1?format=csv",
                                 headers={"Authorization": f"Bearer {s.api_token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in resp.headers["Content-Disposition"]
        raw = resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][1] == "Mã thẻ / mã QR cá nhân"
    return [r[1] for r in rows[1:]]


def _default_answers(result: dict) -> list[dict]:
    return [{k: s[k] for k in ("verified", "gap", "counts", "contacts")} for s in result["stops"]]


def _every_contact(s: Settings, result: dict, limit: int = 2) -> list[list[dict]]:
    """Each stop's contacts, from the default answer and its cursor's pages (``limit`` each)."""
    out = []
    for stop in result["stops"]:
        listed, cursor = list(stop["contacts"]), stop["next"]
        while cursor is not None:
            status, page = http_json(s, "GET", f"{cursor}&limit={limit}"
                                     if "limit=" not in cursor else cursor)
            assert status == 200, page
            listed += page["contacts"]
            cursor = page["next"]
        out.append(listed)
    return out


@hsettings(max_examples=3, deadline=None, derandomize=True,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_pipeline_answers_equal_the_reference_and_follow_late_scans(pipeline: Pipeline, seed: int) -> None:
    s = pipeline.s
    rng = random.Random(seed)
    now = int(time.time())
    arrival, itineraries = _generate(rng, f"x{seed}", now)
    cut = int(len(arrival) * 0.7)
    first, late = arrival[:cut], arrival[cut:]
    retention = int(s.retention_days * 86400)

    _publish(s, first)
    _settle(pipeline)
    visits = reference_visits(first, lambda v: DWELL_S, now, retention)
    for case_id, card, stops in itineraries:
        status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all", _body(case_id, card, stops))
        assert status == 201, res
        assert res["revision"] == 1 and [st["venue_id"] for st in res["stops"]] == [v for v, _, _ in stops]
        assert _answers(res) == _expected(visits, card, stops), case_id
        status, f1 = http_json(s, "GET", f"/api/v1/itineraries/{case_id}/f1?contacts=all")
        assert status == 200 and _f1_rows(f1) == _f1_of(_expected(visits, card, stops)), case_id
    case_id, card, stops = max(itineraries, key=lambda i: len(_f1_of(_expected(visits, i[1], i[2]))))
    assert _csv_cards(s, case_id) == [c for c, close, _ in _f1_of(_expected(visits, card, stops))
                                      if close]

    _publish(s, late)  # scans that arrive after the tracer asked
    _settle(pipeline)
    visits = reference_visits(arrival, lambda v: DWELL_S, now, retention)
    deadline = time.monotonic() + 30
    pending = {case_id: (card, stops) for case_id, card, stops in itineraries}
    while pending and time.monotonic() < deadline:
        for case_id, (card, stops) in list(pending.items()):
            status, res = http_json(s, "GET", f"/api/v1/itineraries/{case_id}")  # default
            assert status == 200
            expected = _expected(visits, card, stops)
            if _default_answers(res) == _default_of(expected) and \
                    _every_contact(s, res) == [e["contacts"] for e in expected]:
                del pending[case_id]
        time.sleep(0.2)
    assert not pending, f"results not updated by late scans: {sorted(pending)}"


def test_late_scan_resolves_a_gap_and_the_stream_shows_it(pipeline: Pipeline) -> None:
    s = pipeline.s
    now = int(time.time())
    card, venue = f"gap-card-{uuid.uuid4().hex[:6]}", f"gap-venue-{uuid.uuid4().hex[:6]}"
    other = card + "-other"
    _publish(s, [(other, f"{other}-1", venue, "in", now - 3 * 3600)])
    _settle(pipeline)
    body = _body(f"case-{card}", card, [(venue, now - 3 * 3600, now - 2 * 3600)])
    status, res = http_json(s, "POST", "/api/v1/itineraries", body)
    assert status == 201 and res["stops"][0]["gap"] is True and res["stops"][0]["verified"] is False
    assert res["stops"][0]["contacts"] == [{"card_id": other, "overlap_s": 3600, "close_contact": True}]

    req = urllib.request.Request(f"{s.api_url}/api/v1/itineraries/case-{card}/events",
                                 headers={"Authorization": f"Bearer {s.api_token}"})
    with urllib.request.urlopen(req, timeout=60) as stream:
        first = _next_event(stream)
        assert first["revision"] == 1
        # the venue's scanner was offline: its scan of the case arrives now
        _publish(s, [(card, f"{card}-1", venue, "in", now - 3 * 3600 + 600)])
        second = _next_event(stream)
    assert second["revision"] == 2
    stop = second["stops"][0]
    assert stop["verified"] is True and stop["gap"] is False
    assert stop["contacts"] == [{"card_id": other, "overlap_s": 3600, "close_contact": True}]

    gaps = _gaps_of(s, venue, 2)
    assert [g["status"] for g in gaps] == ["open", "resolved"]
    assert gaps[0]["gap_id"] == gaps[1]["gap_id"] and gaps[1]["resolved_at"]


def _next_event(stream) -> dict:
    data = None
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("the event stream ended")
        line = line.decode().rstrip("\n")
        if line.startswith("data: "):
            data = orjson.loads(line[6:])
        elif line == "" and data is not None:
            return data


def _gaps_of(s: Settings, venue: str, n: int) -> list[dict]:
    """The gap events of ``venue``, once there are ``n`` (they are published asynchronously)."""
    deadline = time.monotonic() + 15
    while True:
        gaps = [orjson.loads(r.value) for r in read_all(s, topics.gaps(s))
                if r.key == venue.encode()]
        if len(gaps) >= n or time.monotonic() > deadline:
            return gaps
        time.sleep(0.2)
