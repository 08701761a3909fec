"""schemas/ is the contract: every topic has one codec (``truyvet.topics``), and every example
of every schema is judged by the schema and by that codec, which must agree; a valid example
decodes, encodes back to what the schema accepts, and decodes again to the same object. Also on
generated inputs near the edges."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from truyvet import topics
from truyvet.codec import Codec, checkin
from truyvet.codec.errors import InvalidEvent
from truyvet.settings import Settings

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
EXAMPLES = SCHEMAS / "examples"
# Reasons a JSON Schema cannot express (a relation between two fields, or the clock):
# the schema accepts those examples, the codec refuses them. Other such examples say
# "-semantic-" in their names.
SEMANTIC_ONLY = {"bad_interval", "timestamp_in_future"}
CODECS: dict[str, Codec[Any]] = {spec.codec.schema: spec.codec
                                 for spec in topics.catalogue(Settings.from_env(env={}))}
DECODERS = {name: codec.decode for name, codec in CODECS.items()}


@cache
def validator(name: str) -> Draft202012Validator:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def examples() -> list[tuple[str, Path]]:
    return sorted((p.parent.name, p) for p in EXAMPLES.glob("*/*.json"))


def test_every_schema_is_valid_draft_2020_12_with_examples() -> None:
    names = {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")} - {"defs.v1"}
    assert names == {"checkin.v1", "venue.v1", "itinerary.v1", "match-result.v1", "gap.v1",
                     "deadletter.v1", "visits.v1", "scan-by-card.v1", "heartbeat.v1",
                     "headcount.v1", "compliance.v1", "alert.v1", "inspection.v1", "campaign.v1",
                     "audit.v1", "control.v1", "cluster.v1", "followup.v1"}
    for name in names:
        validator(name)
        assert any((EXAMPLES / name).glob("valid-*.json")), f"{name} has no valid example"


def test_every_topic_has_a_codec_and_every_schema_a_topic() -> None:
    catalogue = topics.catalogue(Settings.from_env(env={}))
    assert len({spec.name for spec in catalogue}) == len(catalogue) == len(CODECS)
    schemas = {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")}
    assert set(CODECS) == schemas - {"defs.v1"}  # no skipped schema
    assert {p.parent.name for _, p in examples()} == set(CODECS)


@pytest.mark.parametrize(("schema", "path"), examples(), ids=lambda v: getattr(v, "name", v))
def test_example_is_judged_as_its_name_says(schema: str, path: Path) -> None:
    raw = path.read_bytes()
    expected_valid = path.name.startswith("valid-")
    reason = None if expected_valid else path.stem.removeprefix("invalid-").split("-")[0]
    try:
        doc: Any = json.loads(raw)
        schema_ok = validator(schema).is_valid(doc)
    except json.JSONDecodeError:
        schema_ok = False
    if expected_valid or reason in SEMANTIC_ONLY or "-semantic-" in path.stem:
        assert schema_ok, list(validator(schema).iter_errors(doc))
    else:
        assert not schema_ok
    codec = CODECS[schema]
    if expected_valid:
        decoded = codec.decode(raw)
        assert codec.decode(raw) == decoded  # the same input twice: same result, no state
        encoded = codec.encode(decoded)
        assert encoded is not None
        assert validator(schema).is_valid(json.loads(encoded)), \
            list(validator(schema).iter_errors(json.loads(encoded)))
        assert codec.decode(encoded) == decoded  # what we write, we read back the same
        assert isinstance(codec.key(decoded), bytes)
    else:
        with pytest.raises(InvalidEvent) as err:
            codec.decode(raw)
        assert err.value.reason == reason


# --- generated check-ins near the edges: codec and schema must agree ---------------------------
BASE = json.loads((EXAMPLES / "checkin.v1" / "valid-card-in.json").read_text())
odd_strings = st.one_of(
    st.text(max_size=140),
    st.sampled_from(["", "in", "out", "card", "app", "venue_qr", "IN", "x" * 128, "x" * 129,
                     "a\u0000b", "tab\there", "\u007f", "Cà phê Huế", "\U0001f600", "\n",
                     "id\n"]),
)
timestamps = st.one_of(
    st.sampled_from([
        "2021-12-06T19:05:12+07:00", "2021-12-06T19:05:12Z", "2021-12-06t19:05:12z",
        "2021-12-06T19:05:12.123456789-03:30", "2021-12-06T19:05:12", "2021-12-06 19:05:12Z",
        "2021-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2021-12-06T24:00:00Z",
        "2021-12-06T23:59:60Z", "2019-12-31T23:59:59Z", "2099-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z", "2021-12-06T10:00:00+24:00", "2021-13-01T00:00:00Z",
        "2021-12-06T10:00:00+07:60", "2021-12-06T10:00:00.Z", "2021-12-06T19:05:12Z\n",
    ]),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.text(max_size=30),
)
values = st.one_of(odd_strings, st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False),
                   st.lists(st.integers(), max_size=2))


@st.composite
def near_checkins(draw: st.DrawFn) -> dict[str, Any]:
    doc = dict(BASE)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "drop", "add", "time", "version"]))
        field = draw(st.sampled_from(checkin.FIELDS))
        if action == "set":
            doc[field] = draw(values)
        elif action == "drop":
            doc.pop(field, None)
        elif action == "add":
            doc[draw(st.text(min_size=1, max_size=10))] = draw(values)
        elif action == "time":
            doc["scanned_at"] = draw(timestamps)
        else:
            doc["v"] = draw(st.sampled_from([1, 2, 0, "1", 1.0, True, None]))
    return doc


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(near_checkins())
def test_codec_accepts_exactly_what_the_schema_accepts(doc: dict[str, Any]) -> None:
    schema_ok = validator("checkin.v1").is_valid(doc)
    try:
        checkin.from_mapping(doc)
        codec_ok = True
    except InvalidEvent:
        codec_ok = False
    assert codec_ok == schema_ok, (doc, list(validator("checkin.v1").iter_errors(doc)))
