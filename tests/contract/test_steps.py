"""Every job step over every example of every schema it consumes, twice (snuba's contract):
the same input processed again gives the same output records (they are replacements), raises
no alert again, and refuses an invalid input again with the same dead letter. And everything a
step writes validates against the schema of the topic it goes to."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.contract.test_schemas import EXAMPLES, validator
from truyvet import topics
from truyvet.codec.timefmt import parse_ms
from truyvet.domain.venues import OpenVenue
from truyvet.jobs.compliance import ComplianceStep
from truyvet.jobs.ingest import IngestStep
from truyvet.jobs.progress import InputProgress
from truyvet.jobs.step import Step, StepResult
from truyvet.jobs.visits import VisitsStep
from truyvet.kafka.memory import MemoryBroker
from truyvet.kafka.record import Record
from truyvet.settings import Settings

NOW_MS = parse_ms("2021-12-08T12:00:00Z")  # the examples' days, a little later


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env(env={}, topic_prefix="contract", data_dir=tmp_path,
                             retention_days=3650.0)


def _ingest(s: Settings, broker: MemoryBroker) -> Step:
    return IngestStep(s)


def _visits(s: Settings, broker: MemoryBroker) -> Step:
    rules = s.rules()
    return VisitsStep(s, rules, rules.dwell_function(lambda v: None), broker.backend())


def _compliance(s: Settings, broker: MemoryBroker) -> Step:
    progress = InputProgress(clock_topics=[topics.checkins(s), topics.heartbeats(s)])
    return ComplianceStep(s, lambda t: {"HUE-PH-CF-0042": OpenVenue(1, t - 3600)}, progress,
                          broker.backend())


STEPS: dict[str, tuple[Callable[[Settings, MemoryBroker], Step], dict[str, str]]] = {
    # step -> (how to make it, {schema of an input: the topic it reads it from})
    "ingest": (_ingest, {"checkin.v1": "checkins.v1"}),
    "visits": (_visits, {"scan-by-card.v1": "scans-by-card.v1"}),
    "compliance": (_compliance, {"checkin.v1": "checkins.v1", "heartbeat.v1": "heartbeats.v1",
                                 "headcount.v1": "headcounts.v1", "gap.v1": "gaps.v1"}),
}
CASES = [(step, schema, path) for step, (_, inputs) in STEPS.items() for schema in inputs
         for path in sorted((EXAMPLES / schema).glob("*.json"))]


def _schema_of(s: Settings) -> dict[str, str]:
    return {spec.name: spec.codec.schema for spec in topics.catalogue(s)}


def _valid(schema: str, value: bytes) -> list[Any]:
    return list(validator(schema).iter_errors(json.loads(value)))


def _run(step: Step, record: Record) -> StepResult:
    result = step.process([record], NOW_MS)
    ticked = getattr(step, "tick", lambda now: None)(NOW_MS)
    if ticked is not None:
        result.outputs += ticked.outputs
    return result


@pytest.mark.parametrize(("step_name", "schema", "path"), CASES,
                         ids=lambda v: getattr(v, "name", v))
def test_each_step_over_each_example_twice(tmp_path: Path, step_name: str, schema: str,
                                           path: Path) -> None:
    s = _settings(tmp_path)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    make, inputs = STEPS[step_name]
    topic = s.topic(inputs[schema])
    step = make(s, broker)
    step.assigned({(topic, 0): 0})
    raw = path.read_bytes()
    record = Record(topic, 0, 0, b"HUE-PH-CF-0042", raw, NOW_MS - 60_000)

    first, second = _run(step, record), _run(step, record._replace(offset=1))
    alerts = topics.alerts(s)
    assert [o for o in second.outputs if o.topic != alerts] == \
        [o for o in first.outputs if o.topic != alerts]
    assert not [o for o in second.outputs if o.topic == alerts]  # raised once
    assert [d.to_mapping() for d in second.dead] == \
        [{**d.to_mapping(), "source": {**d.to_mapping()["source"], "offset": 1}} for d in first.dead]
    if path.name.startswith("valid-"):
        assert not first.dead
    elif step_name != "compliance" or schema != "checkin.v1":  # ingest reports those
        assert len(first.dead) == 1 and first.dead[0].payload == raw
    schema_of = _schema_of(s)
    for o in first.outputs:
        assert o.value is None or not _valid(schema_of[o.topic], o.value), o
    for d in first.dead:
        assert not _valid("deadletter.v1", json.dumps(d.to_mapping()).encode())
