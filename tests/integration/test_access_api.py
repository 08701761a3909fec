"""Roles through the real API: each principal reaches its own routes and gets 403 elsewhere,
401 without a known token, health and metrics open; no token ever reaches the log."""

from __future__ import annotations

import time
import urllib.request
import uuid
from pathlib import Path

import orjson

from tests.conftest import Services, _free_port
from tests.contract.test_schemas import validator
from tests.integration.helpers import (api_process, http_json, inspection_body, itinerary_body,
                                       poll_until, register_venue, truyvet_cli)
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

TRACER, INSPECTOR, OPS = "t-" + "1" * 30, "i-" + "2" * 30, "o-" + "3" * 30


def test_roles(services: Services, tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, api_port=_free_port(), api_token="",
                          api_tokens=f"lan:tracer:{TRACER},hue-insp-1:inspector:{INSPECTOR},"
                                     f"noc:ops:{OPS}")
    ensure_topics(s)
    register_venue(s, "V1")
    now = int(time.time())
    itinerary = itinerary_body("case-r", "V1", now, card="c1")
    inspection = inspection_body("V1", now, inspector="Nguyễn Văn A", notes="Tốt.")
    log = tmp_path / "api.log"
    with api_process(s, log):
        expect = [  # (token, method, path, body, status)
            (TRACER, "POST", "/api/v1/itineraries", itinerary, 201),
            (TRACER, "GET", "/api/v1/itineraries/case-r", None, 200),
            (INSPECTOR, "GET", "/api/v1/itineraries/case-r", None, 403),
            (OPS, "GET", "/api/v1/itineraries/case-r", None, 403),
            (TRACER, "GET", "/api/v1/report", None, 403),
            (INSPECTOR, "POST", "/api/v1/inspections", inspection, 201),
            (OPS, "POST", "/api/v1/inspections", inspection, 403),
            (INSPECTOR, "GET", "/api/v1/report", None, 200),
            (OPS, "GET", "/api/v1/report", None, 403),
            (OPS, "GET", "/api/v1/ops", None, 200),
            (TRACER, "GET", "/api/v1/ops", None, 403),
            (OPS, "GET", "/api/v1/compliance?by=district", None, 200),
            (OPS, "GET", "/api/v1/gaps", None, 200),
            ("wrong-" + "9" * 30, "GET", "/api/v1/ops", None, 401),
            ("", "GET", "/api/v1/labels", None, 401),
            (OPS, "GET", "/api/v1/nowhere", None, 404),
        ]
        got = [(t[:2], m, path, http_json(s, m, path, body, token=t)[0])
               for t, m, path, body, _ in expect]
        assert got == [(t[:2], m, path, st) for t, m, path, _, st in expect]

        assert http_json(s, "GET", "/api/v1/whoami", token=INSPECTOR)[1] == \
            {"name": "hue-insp-1", "roles": ["inspector"]}
        status, body = http_json(s, "GET", "/api/v1/itineraries/case-r", token=OPS)
        assert "noc (ops) may not GET" in body["error"]["detail"]
        # ops see outcomes of inspections, not who inspected or their notes
        detail = poll_until(lambda: http_json(s, "GET", "/api/v1/compliance/venues/V1", token=OPS)[1],
                        lambda b: b["inspections"])
        assert detail["inspections"] == [{"inspected_at": detail["inspections"][0]["inspected_at"],
                                          "outcome": "compliant"}]
        full = http_json(s, "GET", "/api/v1/compliance/venues/V1", token=INSPECTOR)[1]
        assert full["inspections"][0]["inspector"] == "Nguyễn Văn A"

        req = urllib.request.Request(f"{s.api_url}/api/v1/itineraries/case-r/events",
                                     headers={"Authorization": f"Bearer {TRACER}"})
        with urllib.request.urlopen(req, timeout=30) as stream:  # the first event, then leave
            assert any(stream.readline().startswith(b"data: ") for _ in range(5))

        # the audit trail: the tracer's submission, read and watch; nothing for refused requests
        done = truyvet_cli(s, "audit", "--case", "case-r", "--json")
        assert done.returncode == 0, done.stderr.decode()
        records = [orjson.loads(line) for line in done.stdout.splitlines()]
        assert [(r["principal"], r["action"], r["revision"], r["stops"]) for r in records] == \
            [("lan", "submit", 1, 1), ("lan", "read", 1, 1), ("lan", "watch", 1, 1)]
        for r in records:
            assert validator("audit.v1").is_valid(r), r

    text = log.read_text()
    for secret in (TRACER, INSPECTOR, OPS):
        assert secret not in text
    # the access log: one line per request, who, the route as registered, the status; no
    # token, no case or card id, no query
    names = {TRACER: "lan", INSPECTOR: "hue-insp-1", OPS: "noc"}
    access = [line.split(" truyvet.access: ", 1)[1].split()
              for line in text.splitlines() if " truyvet.access: " in line]
    seen = {(a[0], a[1], a[2], int(a[3])) for a in access}
    for t, m, path, _, status in expect:
        route = {"/api/v1/itineraries/case-r": "/api/v1/itineraries/{case_id}",
                 "/api/v1/nowhere": "(unmatched)"}.get(path, path.split("?")[0])
        assert (names.get(t, "-"), m, route, status) in seen, (t[:2], m, path)
    assert ("lan", "GET", "/api/v1/itineraries/{case_id}/events", 200) in seen
    for a in access:
        line = " ".join(a)
        assert "case-r" not in line and "c1" not in line and "by=" not in line, line
