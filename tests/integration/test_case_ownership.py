"""Case ownership through the real API, Kafka and a restart: a case is its opener's; another
tracer can neither read nor replace it until a supervisor shares it; an identical POST makes
no revision and does not move the retention; a replacement by the owner is audited with the
revision it replaced; and all of it survives a restart (it lives in the itineraries topic)."""

from __future__ import annotations

import time
import urllib.request
import uuid
from pathlib import Path

import orjson

from tests.conftest import Services, _free_port
from tests.contract.test_schemas import validator
from tests.integration.helpers import (api_process, http_json, itinerary_body, read_all,
                                       register_venue, truyvet_cli)
from truyvet import topics
from truyvet.codec import itinerary as itinerary_codec
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

LAN, MINH, HOA = "l-" + "1" * 30, "m-" + "2" * 30, "h-" + "3" * 30


def _itinerary(case_id: str, venue: str, now: int) -> dict[str, object]:
    return itinerary_body(case_id, venue, now, card="card-lan-1")


def _versions(s: Settings, case_id: str) -> list[itinerary_codec.Itinerary]:
    return [itinerary_codec.decode(r.value) for r in read_all(s, topics.itineraries(s))
            if r.key == case_id.encode() and r.value is not None]


def test_a_case_is_its_openers_until_a_supervisor_shares_it(services: Services,
                                                           tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, api_port=_free_port(), api_token="",
                          api_tokens=f"lan:tracer:{LAN},minh:tracer:{MINH},hoa:supervisor:{HOA}")
    ensure_topics(s)
    register_venue(s, "V1")
    register_venue(s, "V2")
    now = int(time.time())
    case = _itinerary("case-own", "V1", now)
    log = tmp_path / "api.log"
    with api_process(s, log):
        status, first = http_json(s, "POST", "/api/v1/itineraries", case, token=LAN)
        assert status == 201 and first["revision"] == 1
        # an identical POST: the same revision, no new version, the retention unmoved
        assert http_json(s, "POST", "/api/v1/itineraries", case, token=LAN) == (200, first)
        [v1] = _versions(s, "case-own")
        assert (v1.opened_by, v1.submitted_by, v1.shared_with) == ("lan", "lan", ())
        # another tracer: no read, no watch, no replacement (nothing recorded, nothing changed)
        other = _itinerary("case-own", "V2", now)
        for method, path, body in (("GET", "/api/v1/itineraries/case-own", None),
                                   ("GET", "/api/v1/itineraries/case-own/events", None),
                                   ("POST", "/api/v1/itineraries", other)):
            status, refusal = http_json(s, method, path, body, token=MINH)
            assert (status, refusal["error"]["reason"]) == (403, "not_your_case"), (method, path)
        assert len(_versions(s, "case-own")) == 1
        assert http_json(s, "GET", "/api/v1/itineraries/case-own", token=LAN) == (200, first)
        # a tracer cannot share; a supervisor reads every case and shares with a known principal
        assert http_json(s, "POST", "/api/v1/itineraries/case-own/shares", {"with": "minh"},
                         token=LAN)[0] == 403
        assert http_json(s, "GET", "/api/v1/itineraries/case-own", token=HOA) == (200, first)
        status, refusal = http_json(s, "POST", "/api/v1/itineraries/case-own/shares",
                                    {"with": "nobody"}, token=HOA)
        assert (status, refusal["error"]["reason"]) == (400, "unknown_principal")
        assert http_json(s, "POST", "/api/v1/itineraries/case-own/shares", {"with": "minh"},
                         token=HOA) == (200, {"case_id": "case-own", "owner": "lan",
                                              "shared_with": ["minh"]})
        assert http_json(s, "GET", "/api/v1/itineraries/case-own", token=MINH) == (200, first)
        # shared is not owned: minh still cannot replace it
        assert http_json(s, "POST", "/api/v1/itineraries", other, token=MINH)[0] == 403
        # the owner replaces it: a new revision and version; new stops, so a new retention
        status, second = http_json(s, "POST", "/api/v1/itineraries", other, token=LAN)
        assert status == 200 and second["revision"] == 2
        assert [st["venue_id"] for st in second["stops"]] == ["V2"]
        v1_, shared, v2 = _versions(s, "case-own")  # opened, shared, replaced
        assert v1_ == v1 and shared.shared_with == ("minh",)
        assert shared.submitted_at_ms == v1.submitted_at_ms  # sharing is not new data
        assert v2.submitted_at_ms > v1.submitted_at_ms  # type: ignore[operator]
        assert (v2.opened_by, v2.shared_with) == ("lan", ("minh",))

    # a restart: ownership and shares come back from Kafka
    with api_process(s, log):
        assert http_json(s, "GET", "/api/v1/itineraries/case-own", token=MINH)[1]["revision"] == 2
        assert http_json(s, "POST", "/api/v1/itineraries", case, token=MINH)[0] == 403
        req = urllib.request.Request(f"{s.api_url}/api/v1/itineraries/case-own/events",
                                     headers={"Authorization": f"Bearer {MINH}"})
        with urllib.request.urlopen(req, timeout=30) as stream:
            assert any(stream.readline().startswith(b"data: ") for _ in range(5))

    done = truyvet_cli(s, "audit", "--case", "case-own", "--json")
    assert done.returncode == 0, done.stderr.decode()
    records = [orjson.loads(line) for line in done.stdout.splitlines()]
    for r in records:
        assert validator("audit.v1").is_valid(r), r
    assert [(r["principal"], r["action"], r["revision"], r.get("previous_revision"),
             r.get("shared_with")) for r in records] == [
        ("lan", "submit", 1, None, None), ("lan", "submit", 1, None, None),  # the identical one
        ("lan", "read", 1, None, None), ("hoa", "read", 1, None, None),
        ("hoa", "share", 1, None, "minh"), ("minh", "read", 1, None, None),
        ("lan", "replace", 2, 1, None),
        ("minh", "read", 2, None, None), ("minh", "watch", 2, None, None),
    ]  # and nothing for the refusals


def test_when_teams_own_cases_a_teammate_reads_and_replaces_and_another_team_cannot(
        services: Services, tmp_path: Path) -> None:
    """TRUYVET_CASE_OWNER=team: lan and minh (team phu-vang) share their cases without a
    supervisor; an (team a-luoi) gets 403; restarted, the API still knows whose team it is."""
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, api_port=_free_port(), api_token="",
                          case_owner="team",
                          api_tokens=f"lan:tracer:{LAN}:phu-vang,minh:tracer:{MINH}:phu-vang,"
                                     f"an:tracer:{HOA}:a-luoi")
    ensure_topics(s)
    register_venue(s, "V1")
    register_venue(s, "V2")
    now = int(time.time())
    case = _itinerary("case-team", "V1", now)
    with api_process(s, tmp_path / "api.log"):
        status, first = http_json(s, "POST", "/api/v1/itineraries", case, token=LAN)
        assert status == 201
        assert http_json(s, "GET", "/api/v1/itineraries/case-team", token=MINH) == (200, first)
        assert http_json(s, "GET", "/api/v1/itineraries/case-team", token=HOA)[0] == 403
        status, second = http_json(s, "POST", "/api/v1/itineraries",
                                   _itinerary("case-team", "V2", now), token=MINH)
        assert status == 200 and second["revision"] == 2
        assert http_json(s, "POST", "/api/v1/itineraries", case, token=HOA)[0] == 403
    with api_process(s, tmp_path / "api.log"):
        assert http_json(s, "GET", "/api/v1/itineraries/case-team", token=LAN)[1] == second
        assert http_json(s, "GET", "/api/v1/itineraries/case-team", token=HOA)[0] == 403
    *_, last = _versions(s, "case-team")
    assert (last.opened_by, last.submitted_by, last.team) == ("lan", "minh", "phu-vang")
