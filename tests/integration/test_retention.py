"""Retention, with a retention of 90 seconds: scans, visits, dead letters, itineraries,
contact results, gaps and the compliance records naming them, the cluster two F0 cases form
and the follow-up of a contact, older than it, are removed from
every store, and no card id or case id can be read back anywhere: the bytes of every topic
(the audit trail excepted for the case id: it accounts for a year, and holds no card id),
every Redis key, every GET route of the API (as the admin), the visits job's state. The case
is gone (404) and the same question asked again finds no visit and no contact. The time from
the retention passing to the last copy gone is printed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from confluent_kafka.admin import ConfigResource, ResourceType

from truyvet.producers.scans import ScanPublisher
from tests.conftest import Services, own_settings
from tests.integration.helpers import (
    api_process,
    http_json,
    metrics_text,
    poll_until,
    read_all,
    wait_caught_up,
    wait_index_caught_up,
    worker_process,
)
from tests.integration.pipeline_checks import scans_held
from truyvet import topics
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms_local
from truyvet.kafka.admin import admin_client, ensure_topics
from truyvet.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

RETENTION_S = 90


def _personal_topics(s: Settings) -> list[str]:
    return [topics.checkins(s), topics.scans_by_card(s), topics.visits(s),
            topics.itineraries(s), topics.match_results(s), topics.deadletter(s),
            topics.gaps(s), topics.compliance(s), topics.clusters(s), topics.followups(s)]


CARDS = (b"ret-card", b"ret-other")  # the people
CASES = (b"ret-case",)  # and the case


def _get_routes(s: Settings) -> list[str]:
    """Every GET route of the API, from its OpenAPI document, with this test's ids."""
    import json

    from truyvet.settings import ROOT

    doc = json.loads((ROOT / "schemas" / "openapi.v1.json").read_text())
    ids = {"{case_id}": "ret-case", "{venue_id}": "ret-unscanned", "{campaign_id}": "none",
           "{filename}": "app.js"}
    out = []
    for path, item in doc["paths"].items():
        if "get" not in item or path.endswith("/events"):  # a stream: its first event is GET's
            continue
        for k, v in ids.items():
            path = path.replace(k, v)
        query = {"/api/v1/alerts": "?from=2000-01-01T00:00:00Z",
                 "/api/v1/inspections": "?from=2000-01-01T00:00:00Z",
                 "/api/v1/report": "?from=2000-01-01T00:00:00Z",
                 "/api/v1/itineraries/ret-case/contacts": "?stop=0"}
        out.append(path + query.get(path, ""))
    return out


def test_data_older_than_the_retention_is_gone_everywhere(services: Services,
                                                          tmp_path: Path) -> None:
    s = own_settings(services, tmp_path, retention_days=RETENTION_S / 86_400)
    ensure_topics(s)
    _assert_topic_retention(s)
    r = redis.Redis.from_url(s.redis_url)
    venue, case, other = "ret-venue", "ret-card", "ret-other"

    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        now_ms = int(time.time() * 1000)
        pub = ScanPublisher(s)
        for event, card, direction, at_ms in [("e1", case, "in", now_ms - 10_000),
                                              ("e2", case, "out", now_ms - 5_000),
                                              ("e3", other, "in", now_ms - 12_000),
                                              ("e4", other, "out", now_ms - 2_000)]:
            pub.publish(CheckIn(event, card, venue, "s1", direction, at_ms, "card"))
        pub.publish_raw(venue, b'{"card_id": "ret-card", "truncated')  # a dead letter
        assert pub.flush(30) == 0
        wait_caught_up(s, 60, [worker])
        wait_index_caught_up(s)
        stop = {"venue_id": venue, "from": format_ms_local(now_ms - 60_000, 420),
                "to": format_ms_local(now_ms, 420)}
        unscanned = {**stop, "venue_id": "ret-unscanned"}  # declared, never scanned: a gap
        status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all",
                                {"case_id": "ret-case", "classification": "F0",
                                 "card_id": case, "stops": [stop, unscanned]})
        assert status == 201 and res["stops"][0]["verified"] is True
        assert [c["card_id"] for c in res["stops"][0]["contacts"]] == [other]
        assert res["stops"][1]["gap"] is True
        # the contact, an F0 too, was at the venue the same day: a cluster of the two cases
        status, _ = http_json(s, "POST", "/api/v1/itineraries",
                              {"case_id": "ret-case-b", "classification": "F0",
                               "card_id": other, "stops": [stop]})
        assert status == 201
        clusters = poll_until(lambda: http_json(s, "GET", "/api/v1/clusters")[1]["clusters"],
                              lambda c: c, timeout=30)
        assert {m["case_id"] for m in clusters[0]["members"]} == {"ret-case", "ret-case-b"}
        status, _ = http_json(s, "PUT", f"/api/v1/itineraries/ret-case/followups/{other}",
                              {"status": "contacted", "note": "gọi điện"})
        assert status == 200
        # the cluster, its alert and the follow-up are in their topics
        poll_until(lambda: [t for t in (topics.clusters(s), topics.followups(s))
                            if not read_all(s, t)], lambda empty: not empty, timeout=30)
        key = f"{s.topic_prefix}:result:ret-case"
        assert r.exists(key) and 0 < r.ttl(key) <= RETENTION_S
        poll_until(lambda: [t for t in _personal_topics(s) if not read_all(s, t)],
                   lambda empty: not empty, timeout=60)  # every store holds the data ...
        assert _still_held(s, r, key)  # ... and the check below sees it
        assert scans_held(metrics_text(s.worker_web_port)) == 4

        submitted = time.monotonic()
        left = poll_until(lambda: _still_held(s, r, key), lambda held: not held,
                          timeout=RETENTION_S + 150, every=2.0)
        gone_after = time.monotonic() - submitted
        assert left == []

        # asked again: no visit of the case, no contact (the index forgot them too)
        status, res = http_json(s, "POST", "/api/v1/itineraries?contacts=all",
                                {"case_id": "ret-case-2", "classification": "F0",
                                 "card_id": case, "stops": [stop]})
        assert status == 201, res
        assert res["stops"][0]["verified"] is False and res["stops"][0]["contacts"] == []
        assert http_json(s, "GET", "/api/v1/clusters")[1]["clusters"] == []  # dissolved
    print(f"\nretention {RETENTION_S}s: every copy gone {gone_after:.0f}s after the case was "
          f"submitted (Kafka checks retention every 10 s; the API and the worker sweep every "
          f"{s.rules().sweep_every_s:.0f}s)")


def _still_held(s: Settings, r: redis.Redis, key: str) -> list[str]:
    """Where a card id or the case id can still be read back."""
    held = []
    for spec in topics.catalogue(s):
        wanted = CARDS if spec.name == topics.audit(s) else CARDS + CASES
        for rec in read_all(s, spec.name):
            raw = (rec.key or b"") + (rec.value or b"") + b"".join(
                k.encode() + (v or b"") for k, v in rec.headers.items())
            if any(x in raw for x in wanted):
                held.append(spec.name.split(".", 1)[1])
                break
    for k in r.scan_iter(f"{s.topic_prefix}:*"):
        value = r.get(k) if r.type(k) == b"string" else b""
        if any(x in k + (value or b"") for x in CARDS + CASES):
            held.append(f"redis {k.decode()}")
    for path in _get_routes(s):
        status, raw = _get_raw(s, path)
        if path.split("?")[0].startswith("/api/v1/itineraries/ret-case"):
            if status != 404:  # (its 404 says which id was asked for: the caller's own words)
                held.append(f"api {path} ({status})")
            continue
        if any(x in raw for x in CARDS + CASES):
            held.append(f"api {path}")
    try:
        text = metrics_text(s.worker_web_port)
    except OSError as exc:  # not answered this time (a busy machine): held, as far as we know
        held.append(f"visits job state (its metrics unread: {exc})")
    else:
        if scans_held(text):
            held.append("visits job state")
    return held


def _get_raw(s: Settings, path: str) -> tuple[int, bytes]:
    """Any route's status and bytes (JSON, the dashboard's files, /metrics), as the admin."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(s.api_url + path,
                                 headers={"Authorization": f"Bearer {s.api_token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _assert_topic_retention(s: Settings) -> None:
    admin = admin_client(s)
    resources = [ConfigResource(ResourceType.TOPIC, t) for t in _personal_topics(s)]
    for res, future in admin.describe_configs(resources).items():
        config = future.result(30)
        assert config["retention.ms"].value == str(s.retention_ms), res.name
        assert int(config["segment.ms"].value) <= s.retention_ms // 4, res.name


def test_a_shortened_retention_reaches_topics_made_before(services: Services,
                                                          tmp_path: Path) -> None:
    """Topics created under the default retention, then every process started with a shorter
    one: the existing topics take it (creating only the missing topics left personal data in
    them for the old retention)."""
    s = own_settings(services, tmp_path)
    assert ensure_topics(s)
    shorter = s.replace(retention_days=7)
    assert shorter.retention_ms < s.retention_ms
    assert ensure_topics(shorter) == []  # nothing to create ...
    _assert_topic_retention(shorter)  # ... but retention and segments follow the settings
