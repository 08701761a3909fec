"""A case's chain (F1, F2, F3) over HTTP on a running pipeline: scans published, visits built
by the worker, the rings asked of the API equal to the brute-force reference over the visits
the contract gives (tests/reference.py); each expansion audited with the cards it lists."""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

from tests.conftest import Services, _free_port
from tests.integration.helpers import (api_process, http_json, read_all, wait_caught_up,
                                       wait_index_caught_up, worker_process)
from tests.reference import reference_chain, reference_visits
from truyvet import topics
from truyvet.codec import audit as audit_codec
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms, parse_ms
from truyvet.kafka.admin import ensure_topics
from truyvet.producers.scans import ScanPublisher
from truyvet.settings import Settings

CASE, CARD = "BN-TTH-CHAIN-1", "card-00"
LAN = "lan-token-0123456789abcdefghijklmn"
MINH = "minh-token-0123456789abcdefghijklm"


def test_the_rings_of_a_case_equal_the_reference_its_f1_followed_up_and_each_read_audited(
        services: Services, tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, worker_web_port=_free_port(), api_port=_free_port(),
                          api_token="admin-token-0123456789abcdefghijkl",
                          api_tokens=f"lan:tracer:{LAN},minh:tracer:{MINH}")
    ensure_topics(s)
    now = int(time.time())
    t0 = now - now % 600 - 12 * 3600
    rng = random.Random(11731)
    scans = []
    for c in range(40):  # each card: a few visits, entry and exit scanned
        for k in range(rng.randint(1, 4)):
            a = t0 + rng.randrange(60) * 600
            b = a + rng.randint(10, 120) * 60
            venue = f"V{rng.randrange(4)}"
            scans += [(f"card-{c:02d}", f"{c}-{k}-in", venue, "in", a),
                      (f"card-{c:02d}", f"{c}-{k}-out", venue, "out", b)]
    pub = ScanPublisher(s)
    for card, event, venue, direction, t in scans:
        pub.publish(CheckIn(event, card, venue, f"{venue}-s1", direction, t * 1000, "card"))
    assert pub.flush() == 0
    rules = s.rules()
    visits = reference_visits(scans, lambda v: rules.default_dwell_s, now, rules.retention_s)
    flat = [(card, v, a, b) for card, vs in visits.items() for v, a, b in vs]
    stops = [(v, a, b) for v, a, b in visits[CARD]]
    body = {"case_id": CASE, "classification": "F0", "card_id": CARD,
            "stops": [{"venue_id": v, "from": format_ms(a * 1000), "to": format_ms(b * 1000)}
                      for v, a, b in stops]}
    expected = reference_chain(flat, CARD, stops, rules.close_contact_s, 3)
    assert len(expected) == 3 and all(expected), [len(r) for r in expected]

    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        wait_caught_up(s, 120, [worker])
        wait_index_caught_up(s)
        status, res = http_json(s, "POST", "/api/v1/itineraries", body, token=LAN)
        assert status in (200, 201), res
        status, chain = http_json(s, "GET", f"/api/v1/itineraries/{CASE}/chain?rings=3",
                                  token=LAN)
        assert status == 200, chain
        got = [{c["card_id"]: (parse_ms(c["exposed_at"]) // 1000, c["via"], c["venue_id"],
                               c["overlap_s"]) for c in ring["contacts"]}
               for ring in chain["rings"]]
        assert got == expected
        assert [r["name"] for r in chain["rings"]] == ["F1", "F2", "F3"]
        assert [r["cards"] for r in chain["rings"]] == [len(r) for r in expected]
        # the F1 ring is the case's close contacts as its answer lists them
        status, f1 = http_json(s, "GET", f"/api/v1/itineraries/{CASE}/f1", token=LAN)
        assert {c["card_id"] for c in f1["f1"]} == set(expected[0])
        status, cut = http_json(s, "GET", f"/api/v1/itineraries/{CASE}/chain?rings=2&limit=1",
                                token=LAN)
        assert [len(r["contacts"]) for r in cut["rings"]] == [1, 1]
        assert [r["cards"] for r in cut["rings"]] == [len(r) for r in expected[:2]]
        for bad in ("rings=0", "rings=5", "limit=0", "rings=x", "depth=2"):
            status, _ = http_json(s, "GET", f"/api/v1/itineraries/{CASE}/chain?{bad}", token=LAN)
            assert status == 400, bad

        # follow-up: lan records where she is with two F1; minh may not; a card that is no
        # contact, or a status that is none, is refused
        f1_cards = sorted(expected[0])
        done = {f1_cards[0]: "tested", f1_cards[1]: "contacted"}
        for card, status in done.items():
            code, rec = http_json(s, "PUT", f"/api/v1/itineraries/{CASE}/followups/{card}",
                                  {"status": status, "note": "gọi điện lúc 9h"}, token=LAN)
            assert code == 200 and (rec["status"], rec["by"]) == (status, "lan"), rec
        assert http_json(s, "PUT", f"/api/v1/itineraries/{CASE}/followups/{f1_cards[2]}",
                         {"status": "isolated"}, token=MINH)[0] == 403
        assert http_json(s, "PUT", f"/api/v1/itineraries/{CASE}/followups/{CARD}",
                         {"status": "isolated"}, token=LAN)[0] == 404  # the case's own card
        assert http_json(s, "PUT", f"/api/v1/itineraries/{CASE}/followups/{f1_cards[2]}",
                         {"status": "cured"}, token=LAN)[0] == 400

    with api_process(s, tmp_path / "api-2.log"):  # restarted: the statuses come from Kafka
        code, listed = http_json(s, "GET", f"/api/v1/itineraries/{CASE}/followups", token=LAN)
        assert code == 200
        assert {f["card_id"]: f["status"] for f in listed["followups"]} == {
            c: done.get(c, "not_contacted") for c in f1_cards}
        counts = http_json(s, "GET", "/api/v1/report")[1]["followups"]  # type: ignore[index]
        assert counts == {"cases": 1, "contacts": len(f1_cards), "statuses": {
            "not_contacted": len(f1_cards) - 2, "contacted": 1, "tested": 1, "isolated": 0}}
        status, html = _raw(s, "/api/v1/report?format=html")
        assert 'data-followup-count="tested">1<' in html and "Theo dõi người tiếp xúc gần" in html

    expansions = [audit_codec.decode(r.value) for r in read_all(s, topics.audit(s))]
    reads = [(a.principal, a.action, a.contacts) for a in expansions if a.case_id == CASE]
    assert [r for r in reads if r[1] == "expand"] == [
        ("lan", "expand", sum(len(r) for r in expected)), ("lan", "expand", 2)]
    # the F1 list read, then the follow-up list (after the restart): each a read of the F1
    assert reads.count(("lan", "read", len(f1_cards))) == 2


def _raw(s: Settings, path: str) -> tuple[int, str]:
    from truyvet import api_client

    status, raw = api_client.call_raw(s.api_url, s.api_token, "GET", path)
    return status, raw.decode()
