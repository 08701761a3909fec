"""Invalid requests to the tracer API get a precise 4xx, never a 500."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Services, _free_port
from tests.integration.helpers import api_process, http_json
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

STOP = {"venue_id": "v1", "from": "2026-11-25T08:00:00+07:00", "to": "2026-11-25T09:00:00+07:00"}
GOOD = {"case_id": "c1", "classification": "F0", "card_id": "card-1", "stops": [STOP]}


@pytest.fixture(scope="module")
def api(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    import uuid

    tmp = tmp_path_factory.mktemp("api")
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp, api_port=_free_port(), api_token="secret-test-token-0123456789abcdefghijklmnopqrstuv")
    ensure_topics(s)
    with api_process(s, tmp / "api.log"):
        yield s


@pytest.mark.parametrize(("body", "status", "reason", "mention"), [
    (b"{not json", 400, "not_json", ""),
    (b"[]", 400, "not_object", "itinerary"),
    ({**GOOD, "classification": "F2"}, 400, "bad_enum", "classification"),
    ({k: v for k, v in GOOD.items() if k != "stops"}, 400, "missing_field", "stops"),
    ({**GOOD, "stops": []}, 400, "bad_value", "stops"),
    ({**GOOD, "stops": [STOP, {**STOP, "to": "2026-11-25T07:00:00+07:00"}]}, 400, "bad_interval",
     "stops[1]"),
    ({**GOOD, "stops": [{**STOP, "from": "2026-11-25 08:00"}]}, 400, "bad_timestamp", "stops[0]"),
    ({**GOOD, "stops": [{**STOP, "venue_id": 7}]}, 400, "wrong_type", "venue_id"),
    ({**GOOD, "extra": 1}, 400, "unknown_field", "extra"),
    ({**GOOD, "submitted_by": "me"}, 400, "unknown_field", "set by the API"),
    ({**GOOD, "case_id": "x" * 200}, 400, "field_too_long", "case_id"),
    ({**GOOD, "stops": [STOP] * 201}, 400, "bad_value", "201"),
])
def test_invalid_itineraries_get_400_with_the_reason(api: Settings, body, status, reason, mention) -> None:
    got, res = http_json(api, "POST", "/api/v1/itineraries", body)
    assert got == status, res
    assert res["error"]["reason"] == reason and mention in res["error"]["detail"]


def test_authentication_and_other_refusals(api: Settings) -> None:
    assert http_json(api, "POST", "/api/v1/itineraries", GOOD, token="wrong")[0] == 401
    assert http_json(api, "GET", "/api/v1/itineraries/c1", token="")[0] == 401
    status, res = http_json(api, "GET", "/api/v1/itineraries/never-submitted")
    assert status == 404 and res["error"]["reason"] == "not_found"
    assert http_json(api, "GET", "/api/v1/nothing-here")[0] == 404
    assert http_json(api, "DELETE", "/api/v1/itineraries/c1")[0] == 405
    big = b'{"case_id": "' + b"x" * 300_000 + b'"}'
    assert http_json(api, "POST", "/api/v1/itineraries", big)[0] == 413
    req = urllib.request.Request(f"{api.api_url}/api/v1/itineraries", data=b"case_id=1",
                                 method="POST", headers={"Authorization": "Bearer secret-test-token-0123456789abcdefghijklmnopqrstuv",
                                                         "Content-Type": "text/plain"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("a form body was accepted")
    except urllib.error.HTTPError as exc:
        assert exc.code == 415
    # health and metrics need no token
    assert http_json(api, "GET", "/healthz", token="")[0] == 200
    with urllib.request.urlopen(f"{api.api_url}/metrics", timeout=10) as resp:
        assert b"truyvet_match_latency_seconds" in resp.read()


def test_a_valid_itinerary_is_answered_and_kept(api: Settings) -> None:
    status, res = http_json(api, "POST", "/api/v1/itineraries", {**GOOD, "case_id": "kept"})
    assert status == 201 and res["case_id"] == "kept" and res["revision"] == 1
    assert res["stops"][0]["from"] == "2026-11-25T01:00:00Z"  # any offset in, UTC out
    assert res["stops"][0]["gap"] is True  # nothing was scanned
    status, again = http_json(api, "POST", "/api/v1/itineraries", {**GOOD, "case_id": "kept"})
    assert (status, again) == (200, res)  # the same again: no new revision
    status, again = http_json(api, "POST", "/api/v1/itineraries",
                              {**GOOD, "case_id": "kept", "classification": "F1"})
    assert status == 200 and again["revision"] == 2  # a corrected itinerary replaces it
    assert again["classification"] == "F1"
    assert http_json(api, "GET", "/api/v1/itineraries/kept")[1]["revision"] == 2


@pytest.mark.parametrize(("path", "status", "reason", "mention"), [
    ("/api/v1/itineraries/paged?contacts=some", 400, "bad_value", "contacts is all"),
    ("/api/v1/itineraries/paged?contacts=all&contacts=close", 400, "bad_value", "once"),
    ("/api/v1/itineraries/paged/events?contacts=", 400, "bad_value", "contacts"),
    ("/api/v1/itineraries/paged/contacts", 400, "missing_field", "stop"),
    ("/api/v1/itineraries/paged/contacts?stop=1", 400, "bad_value", "1 stops"),
    ("/api/v1/itineraries/paged/contacts?stop=-1", 400, "bad_value", "stop is one whole"),
    ("/api/v1/itineraries/paged/contacts?stop=0&limit=0", 400, "bad_value", "limit"),
    ("/api/v1/itineraries/paged/contacts?stop=0&limit=10001", 400, "bad_value", "limit"),
    ("/api/v1/itineraries/paged/contacts?stop=0&after=x", 400, "bad_value", "after"),
    ("/api/v1/itineraries/paged/contacts?stop=0&page=2", 400, "unknown_field", "page"),
    ("/api/v1/itineraries/paged/contacts?stop=0&revision=9", 410, "revision_gone",
     "the latest is 1"),
    ("/api/v1/itineraries/nobody/contacts?stop=0", 404, "not_found", "nobody"),
])
def test_answer_forms_and_pages_refuse_what_they_cannot_give(api: Settings, path, status, reason,
                                                             mention) -> None:
    assert http_json(api, "POST", "/api/v1/itineraries", {**GOOD, "case_id": "paged"})[0] in (
        200, 201)
    got, res = http_json(api, "GET", path)
    assert got == status, res
    assert res["error"]["reason"] == reason and mention in res["error"]["detail"], res


def test_the_answer_forms_of_a_stop_without_contacts(api: Settings) -> None:
    status, default = http_json(api, "POST", "/api/v1/itineraries", {**GOOD, "case_id": "forms"})
    assert status == 201
    stop = default["stops"][0]
    assert stop["counts"] == {"contacts": 0, "close_contacts": 0} and stop["contacts"] == []
    assert stop["next"] is None and default["counts"]["gaps"] == 1
    status, whole = http_json(api, "GET", "/api/v1/itineraries/forms?contacts=all")
    assert status == 200 and "counts" not in whole and whole["revision"] == default["revision"]
    assert whole["stops"][0]["contacts"] == []
    status, page = http_json(api, "GET", "/api/v1/itineraries/forms/contacts?stop=0")
    assert status == 200 and page["contacts"] == [] and page["next"] is None


def test_a_caller_past_its_limits_gets_429_with_retry_after(services: Services,
                                                            tmp_path: Path) -> None:
    """The real API with small limits (2 requests a second, bursts of 4; one event stream):
    the fifth quick request, a second stream and a guessing client are refused with 429 and
    Retry-After; after the wait the principal is served again."""
    import urllib.request
    import uuid

    from tests.integration.helpers import api_process, http_json, itinerary_body, register_venue

    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, api_port=_free_port(),
                          api_token="limit-" + "0" * 30, api_rate=2.0, api_max_streams=1)
    ensure_topics(s)
    register_venue(s, "V1")
    with api_process(s, tmp_path / "api.log"):
        assert http_json(s, "POST", "/api/v1/itineraries",
                         itinerary_body("lim", "V1", int(time.time())))[0] == 201
        time.sleep(2.1)  # the bucket full again (4 tokens): what is measured starts here
        got = []
        while len(got) < 40 and (not got or got[-1][0] == 200):
            got.append(_status(s, "/api/v1/whoami", s.api_token))
        assert len(got) >= 5 and {st for st, _ in got[:4]} == {200}  # a burst of 4 at least
        assert got[-1][0] == 429 and got[-1][1] is not None, got  # then refused, saying when
        time.sleep(float(got[-1][1]))  # as Retry-After says
        assert _status(s, "/api/v1/whoami", s.api_token)[0] == 200
        time.sleep(2.1)
        req = urllib.request.Request(f"{s.api_url}/api/v1/itineraries/lim/events",
                                     headers={"Authorization": f"Bearer {s.api_token}"})
        with urllib.request.urlopen(req, timeout=30) as stream:  # the one stream allowed
            assert any(stream.readline().startswith(b"data: ") for _ in range(5))
            status, after = _status(s, "/api/v1/itineraries/lim/events", s.api_token)
            assert status == 429 and after
        guesses = [_status(s, "/api/v1/whoami", "guess-" + "9" * 30)[0] for _ in range(3)]
        assert guesses[0] == 401 and 429 in guesses  # failed tokens: a fifth of the rate


def _status(s: Settings, path: str, token: str) -> tuple[int, str | None]:
    """(status, Retry-After) of a GET; streams are not read."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(s.api_url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After")


def test_truyvet_match_prints_the_default_answer_and_json_the_whole_result(
        api: Settings, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from truyvet.cli.match import command

    f = tmp_path / "case.json"
    f.write_text(json.dumps({**GOOD, "case_id": "by-cli"}))
    env = {"TRUYVET_API_URL": api.api_url, "TRUYVET_API_TOKEN": api.api_token,
           "TRUYVET_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    table = CliRunner().invoke(command, [str(f)], env=env)
    assert table.exit_code == 0, table.output
    assert "by-cli" in table.output and "GAP" in table.output and "0 (0)" in table.output
    whole = CliRunner().invoke(command, [str(f), "--json"], env=env)
    assert whole.exit_code == 0, whole.output
    res = json.loads(whole.output)
    assert res["case_id"] == "by-cli" and "counts" not in res and res["stops"][0]["gap"] is True
    out = tmp_path / "f1.csv"  # the F1 list for a spreadsheet: here, no contacts
    listed = CliRunner().invoke(command, [str(f), "--csv", str(out), "--lang", "en"], env=env)
    assert listed.exit_code == 0, listed.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8-sig").splitlines() == [
        "No.,Card / personal QR id,Close contact (F1),Total overlap (minutes),Stops in common,"
        "\"Venue, time (Vietnam time) and minutes of overlap\""]
    assert "(0 cards)" in listed.output
    status, body = http_json(api, "GET", "/api/v1/itineraries/by-cli/f1")
    assert status == 200 and body["counts"] == {"cards": 0, "close_contacts": 0}
    for bad in ("format=xlsx", "lang=fr", "contacts=some", "stop=1"):
        assert http_json(api, "GET", f"/api/v1/itineraries/by-cli/f1?{bad}")[0] == 400, bad
    assert http_json(api, "GET", "/api/v1/itineraries/nobody/f1")[0] == 404
    # another case's itinerary (the simulator's, in `truyvet run`) submitted as one's own
    copied = CliRunner().invoke(command, [str(f), "--case-id", "by-cli-copy"], env=env)
    assert copied.exit_code == 0, copied.output
    assert "by-cli-copy" in copied.output
    status, body = http_json(api, "GET", "/api/v1/itineraries/by-cli-copy")
    assert status == 200 and body["case_id"] == "by-cli-copy"
    assert body["stops"] == http_json(api, "GET", "/api/v1/itineraries/by-cli")[1]["stops"]
    f.write_text("[1, 2]")
    refused = CliRunner().invoke(command, [str(f), "--case-id", "x"], env=env)
    assert refused.exit_code == 1 and "not an itinerary (a JSON object)" in refused.output
    f.write_text("{")
    refused = CliRunner().invoke(command, [str(f), "--case-id", "x"], env=env)
    assert refused.exit_code == 1 and "not JSON" in refused.output
