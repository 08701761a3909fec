"""schemas/openapi.v1.json describes the HTTP API as served: every route of the real application
and nothing else, the roles of truyvet.api.access, the message schemas as request bodies, and response
schemas that the code's own outputs satisfy. The fuzz test (tests/integration/test_api_fuzz.py)
holds the running API to this document; these tests hold the document to the code."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from unittest.mock import MagicMock

import pytest
import schemathesis
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.core.result import Err

from truyvet.api import access
from truyvet.api.access import parse_tokens
from truyvet.domain.compliance.figures import Figures
from truyvet.api.app import build_app
from truyvet.api.dashboard.ops import Sample, summarise
from tests.contract.test_schemas import DECODERS, SCHEMAS, validator
from truyvet.report import labels

OPENAPI = SCHEMAS / "openapi.v1.json"
# where the document's relative references ("itinerary.v1.schema.json") resolve: beside the
# message schemas, whose $id all start with this
BASE_URI = "https://truyvet.vn/schemas/openapi.v1.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@cache
def document() -> dict[str, Any]:
    return json.loads(OPENAPI.read_text())


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, item in document()["paths"].items()
            for method, op in item.items() if method in METHODS}


def component(name: str) -> dict[str, Any]:
    return document()["components"]["schemas"][name]


def example(message: str, name: str) -> Any:
    return json.loads((SCHEMAS / "examples" / message / name).read_text())


def served_routes() -> set[tuple[str, str]]:
    """(method, path template) of every route of the real application, as OpenAPI spells it."""
    app = build_app(MagicMock(), MagicMock(), MagicMock(), parse_tokens("", "x" * 22))
    out = set()
    for route in app.router.routes():
        if route.method == "HEAD":  # aiohttp adds HEAD to every GET route
            continue
        info = route.resource.get_info()
        if "directory" in info:  # a static directory: one file below its prefix
            out.add((route.method, f"{info['prefix']}/{{filename}}"))
        else:
            out.add((route.method, route.resource.canonical))
    return out


@cache
def component_validator(name: str) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<name>``, the message schemas beside it."""
    resources = [(BASE_URI, Resource.from_contents(document(), default_specification=DRAFT202012))]
    for path in SCHEMAS.glob("*.schema.json"):
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)
    return Draft202012Validator({"$ref": f"{BASE_URI}#/components/schemas/{name}"},
                                registry=registry, format_checker=FormatChecker())


def assert_valid(name: str, instance: Any) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in component_validator(name).iter_errors(instance)]
    assert not errors, (name, errors)


def test_the_document_is_valid_openapi_that_schemathesis_reads_whole() -> None:
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.validate()  # against the OpenAPI 3.1 meta-schema
    loaded = list(schema.get_all_operations())
    broken = [str(r.err()) for r in loaded if isinstance(r, Err)]
    assert not broken, broken
    assert len(loaded) == len(operations())


def test_every_served_route_is_described_and_nothing_else() -> None:
    served = served_routes()
    assert set(access.ROUTES) <= served, "truyvet.api.access lists routes the app does not serve"
    described = set(operations())
    assert served - described == set(), "routes missing from schemas/openapi.v1.json"
    assert described - served == set(), "schemas/openapi.v1.json describes routes not served"


def test_security_and_roles_are_those_of_api_access() -> None:
    for (method, path), op in operations().items():
        if access.is_public(path):
            assert op.get("security") == [], f"{method} {path} is public: security: []"
            assert "x-roles" not in op and "401" not in op["responses"], (method, path)
        else:
            assert "security" not in op, f"{method} {path}: the document's bearerAuth applies"
            assert set(op["x-roles"]) == access.ROUTES[(method, path)], (method, path)
            assert {"401", "403"} <= set(op["responses"]), (method, path)
    assert document()["security"] == [{"bearerAuth": []}]
    assert document()["components"]["securitySchemes"]["bearerAuth"] == {
        **document()["components"]["securitySchemes"]["bearerAuth"],
        "type": "http", "scheme": "bearer"}


@pytest.mark.parametrize(("path", "name", "message", "set_by_api"), [
    ("/api/v1/itineraries", "ItineraryRequest", "itinerary.v1", {"submitted_at", "submitted_by"}),
    ("/api/v1/inspections", "InspectionRequest", "inspection.v1", {"recorded_at"}),
    ("/api/v1/campaigns", "Campaign", "campaign.v1", set()),
])
def test_request_bodies_are_the_message_schemas(path: str, name: str, message: str,
                                                set_by_api: set[str]) -> None:
    body = document()["paths"][path]["post"]["requestBody"]
    assert body["required"] is True and list(body["content"]) == ["application/json"]
    media = body["content"]["application/json"]
    assert media["schema"] == {"$ref": f"#/components/schemas/{name}"}
    schema = component(name)
    assert {"$ref": f"{message}.schema.json"} in [schema, *schema.get("allOf", [])], \
        f"{name} must reference {message}"
    # the fields the API sets itself are refused in the request, and only those
    assert {k for k, v in schema.get("properties", {}).items() if v is False} == set_by_api
    # the example is valid for the message schema, the request schema and the codec
    sample = media["example"]
    assert validator(message).is_valid(sample)
    assert_valid(name, sample)
    DECODERS[message](json.dumps(sample).encode())
    for field in set_by_api:
        assert not component_validator(name).is_valid({**sample, field: "x"})


def test_every_json_response_and_parameter_is_described() -> None:
    for (method, path), op in operations().items():
        for status, response in op["responses"].items():
            assert status.isdigit(), (method, path, status)
            if "$ref" in response:
                continue
            assert response.get("description"), (method, path, status)
        names = [p["name"] for p in op.get("parameters", []) if "name" in p]
        templated = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        params = [document()["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                  if "$ref" in p else p for p in op.get("parameters", [])]
        assert sorted(p["name"] for p in params if p["in"] == "path") == sorted(templated), \
            (method, path)
        assert len(set(names)) == len(names), (method, path)


# --- what the code builds satisfies the response schemas -----------------------------------------
def test_error_bodies() -> None:
    from truyvet.api.web import error

    response = error(404, "not_found", "no itinerary with case_id 'x'")
    assert_valid("Error", json.loads(response.body))


def test_figures_empty_and_filled() -> None:
    assert_valid("Figures", Figures().to_mapping())
    f = Figures(venues=3, venues_scanning=2, scans_in=40, scans_out=12, card=30, app=20,
                venue_qr=2, cards_in=35, cards_in_out=11, open_hours=20, silent_open_hours=3,
                people_counted=50, people_scanned=41, headcounts=2, gaps_flagged=1,
                inspections=2, venues_inspected=1, outcomes={"reminded": 1, "compliant": 1})
    mapping = f.to_mapping()
    assert_valid("Figures", mapping)
    # the schema names every field the code writes, so a new figure is documented with it
    assert set(mapping) == set(component("Figures")["properties"])


def test_ops_figures_before_and_after_samples() -> None:
    assert_valid("Ops", summarise([]))
    samples = [Sample(100.0 + i, {"checkins": 1000 * i, "deadletter": 0, "gaps": i, "alerts": 0,
                                  "itineraries": 2}, {"worker": 5 - i}) for i in range(5)]
    assert_valid("Ops", summarise(samples))


@pytest.mark.parametrize("lang", labels.LANGS)
def test_labels(lang: str) -> None:
    assert_valid("Labels", labels.bundle(lang))
    assert set(labels.bundle(lang)) == set(component("Labels")["properties"])


def test_match_results_and_campaigns_are_their_message_schemas() -> None:
    assert_valid("MatchResult", example("match-result.v1", "valid-gap-and-contacts.json"))
    assert_valid("Campaign", example("campaign.v1", "valid-peak-week.json"))


def test_the_default_answer_and_its_pages_are_described() -> None:
    from truyvet.api.tracing import answers

    whole = example("match-result.v1", "valid-gap-and-contacts.json")
    whole["stops"][0]["contacts"] = [{"card_id": f"c{i:03d}", "overlap_s": 3600 - i,
                                      "close_contact": i < 150} for i in range(180)]
    default = json.loads(answers.summary_of(whole).json)
    assert_valid("MatchSummary", default)
    assert_valid("Answer", default)
    assert_valid("Answer", whole)
    assert default["stops"][0]["next"] is not None  # the schema's cursor pattern held for it
    assert_valid("ContactPage", json.loads(answers.page(whole, 0, 100, 50).json))
    assert_valid("ContactPage", json.loads(answers.page(whole, 0, 170, 50).json))


def test_the_f1_list_is_described() -> None:
    from truyvet.api.tracing import f1_list

    whole = example("match-result.v1", "valid-gap-and-contacts.json")
    for everyone in (False, True):
        body = json.loads(f1_list.as_json(whole, everyone).json)
        assert body["f1"], "the example has contacts"
        assert_valid("F1List", body)


def test_the_case_list_is_described() -> None:
    from truyvet.api.tracing import answers, case_list
    from truyvet.api.tracing.board import Board, Shown
    from truyvet.codec.itinerary import Itinerary, Stop

    whole = example("match-result.v1", "valid-gap-and-contacts.json")
    board = Board()
    for case_id, at in ((whole["case_id"], 2_000), ("not-answered-yet", 1_000)):
        board.put_itinerary(Itinerary(case_id, "F1", None, (Stop("V", 0, 60_000),),
                                      submitted_at_ms=at, opened_by="t"), 0, at)
    board.put_revision(Shown.of(whole["case_id"], whole["revision"], json.dumps(whole).encode(),
                                len(whole["stops"]), 0, answers.summary_of(whole), 0, 0))
    body = case_list.listed(board, lambda it: True)
    assert [c["revision"] for c in body["cases"]] == [whole["revision"], None]
    assert_valid("CaseList", body)
    assert_valid("CaseList", component("CaseList")["example"])


def test_healthz_says_degraded_when_a_view_passed_over_a_record_its_handler_failed_on(
        tmp_path: Any) -> None:
    """A real follower (in-memory Kafka) whose handler fails on one record: /healthz still
    answers 200 (the API serves), says ``degraded`` naming the view, shows where (no message:
    the route is public), and satisfies its schema."""
    import asyncio
    from types import SimpleNamespace

    from aiohttp.test_utils import TestClient, TestServer

    from truyvet import topics
    from truyvet.kafka.follower import TopicFollower
    from truyvet.kafka.memory import MemoryBroker
    from truyvet.settings import Settings

    s = Settings.from_env(env={}, topic_prefix="health", data_dir=tmp_path)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    backend = broker.backend()
    producer = backend.producer("health")
    for v in (b"fine", b"card-0123 breaks the handler", b"fine too"):
        producer.produce(topics.alerts(s), b"k", v)
    assert producer.flush(5) == 0

    def on_batch(batch: Any) -> None:
        for r in batch:
            if r.value.startswith(b"card"):
                raise RuntimeError(r.value.decode())

    follower = TopicFollower(s, topics.alerts(s), on_batch, "api-alerts", backend=backend).start()
    quiet = TopicFollower(s, topics.visits(s), lambda batch: None, "api-index",
                          backend=backend).start()
    try:
        assert follower.wait_caught_up(10) and quiet.wait_caught_up(10)
        service = SimpleNamespace(s=s, producer=None, ready=True, followers=[quiet], cases={},
                                  board={}, owned={1, 0}, answering_again=0,
                                  view=SimpleNamespace(visits=lambda: 0, positions=lambda: {0: 0},
                                                    last_checkpoint=None,
                                                    restored={"from": "topic", "reason": "x"}))
        compliance = SimpleNamespace(followers=[follower])
        app = build_app(service, compliance, MagicMock(), parse_tokens("", "x" * 22))  # type: ignore[arg-type]

        async def get() -> tuple[int, Any]:
            async with TestClient(TestServer(app)) as client:
                response = await client.get("/healthz")
                return response.status, await response.json()

        status, body = asyncio.run(get())
    finally:
        follower.stop()
        quiet.stop()
    assert status == 200
    assert body["status"] == "degraded" and body["degraded"] == ["api-alerts"]
    assert body["views"]["api-alerts"]["skipped_error"] == 1
    bad = broker.records(topics.alerts(s))[1]
    assert bad.value.startswith(b"card")  # type: ignore[union-attr]
    assert body["views"]["api-alerts"]["last_error"] == (
        f"{topics.alerts(s)}[{bad.partition}]@{bad.offset}: RuntimeError")
    assert body["views"]["api-index"]["skipped_error"] == 0
    assert "card-0123" not in json.dumps(body)
    errors = list(component_validator("Health").iter_errors(body))
    assert not errors, errors
