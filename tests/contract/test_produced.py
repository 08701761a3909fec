"""What the code produces validates against its schema: a simulated province's day (venue
records, check-ins, heartbeats, headcounts, itineraries) taken through the ingest, visits and
compliance steps, the visit index and the tracer's revisions -- every scan-by-card, visit
bucket, compliance record, alert, match result, gap event (opened and resolved), audit record
and the API's inspection headcount is checked against ``schemas/``."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.contract.test_schemas import validator
from truyvet import topics
from truyvet.api.access import Principal
from truyvet.api.audit import audit_record
from truyvet.codec import audit as audit_codec
from truyvet.codec import checkin, gap as gap_codec, headcount as headcount_codec
from truyvet.codec import heartbeat as heartbeat_codec
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec import visits as visits_codec
from truyvet.codec.headcount import Headcount
from truyvet.codec.timefmt import parse_ms
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.matcher import encode_result, match
from truyvet.domain.matching.revisions import next_revision
from truyvet.domain.venues import VenueTable
from truyvet.jobs.compliance import ComplianceStep
from truyvet.jobs.ingest import IngestStep
from truyvet.jobs.progress import InputProgress
from truyvet.jobs.visits import VisitsStep
from truyvet.kafka.memory import MemoryBroker
from truyvet.kafka.record import Record
from truyvet.producers.simulator.timeline import Timeline
from truyvet.producers.simulator.world import build_world
from truyvet.settings import Settings

START = parse_ms("2026-11-16T00:00:00+07:00")
END = START + 86_400_000


def _errors(schema: str, value: bytes | dict[str, Any]) -> list[Any]:
    doc = json.loads(value) if isinstance(value, bytes) else value
    return [e.message for e in validator(schema).iter_errors(doc)]


def test_a_simulated_day_end_to_end(tmp_path: Path) -> None:
    s = Settings.from_env(env={}, topic_prefix="produced", data_dir=tmp_path,
                          retention_days=3650.0, checkin_partitions=1)
    schema_of = {spec.name: spec.codec.schema for spec in topics.catalogue(s)}
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    world = build_world(3, 400)
    venues = VenueTable()
    for v in world.venues:
        assert not _errors("venue.v1", v.record())
        venues.apply([(v.venue_id.encode(), json.dumps(v.record()).encode())])

    events = list(itertools.takewhile(lambda e: e.send_ms < END,
                                      Timeline(world, START).events()))
    by_topic: dict[str, list[bytes]] = defaultdict(list)
    itineraries = []
    for e in events:
        if e.kind == "scan":
            by_topic[topics.checkins(s)].append(checkin.encode(e.payload))
        elif e.kind == "heartbeat":
            by_topic[topics.heartbeats(s)].append(heartbeat_codec.encode(e.payload))
        elif e.kind == "headcount":
            by_topic[topics.headcounts(s)].append(headcount_codec.encode(e.payload))
        else:
            assert not _errors("itinerary.v1", e.payload)
            itineraries.append(itinerary_codec.from_mapping(e.payload))
    # and one whose stop no scan backs: a gap for certain (the simulated ones may have none)
    itineraries.append(itinerary_codec.from_mapping({
        "case_id": "BN-CONTRACT-1", "classification": "F0", "card_id": world.residents[0].card_id,
        "stops": [{"venue_id": world.venues[0].venue_id, "from": "2026-11-16T03:00:00+07:00",
                   "to": "2026-11-16T03:30:00+07:00"}]}))
    assert itineraries and all(by_topic[t] for t in
                               (topics.checkins(s), topics.heartbeats(s), topics.headcounts(s)))
    for topic, values in by_topic.items():
        assert not [v for v in values[:2000] if _errors(schema_of[topic], v)]

    def records(topic: str, values: list[bytes | None]) -> list[Record]:
        return [Record(topic, 0, i, None, v, -1) for i, v in enumerate(values)]

    now_ms = END + 3_600_000
    ingested = IngestStep(s).process(records(topics.checkins(s), by_topic[topics.checkins(s)]),
                                     now_ms)
    assert not ingested.dead and ingested.outputs
    rules = s.rules()
    visits = VisitsStep(s, rules, rules.dwell_function(venues.category_of), broker.backend())
    visits.assigned({(topics.scans_by_card(s), 0): 0})
    built = visits.process(records(topics.scans_by_card(s), [o.value for o in ingested.outputs]),
                           now_ms)
    for o in ingested.outputs + built.outputs:
        assert o.value is None or not _errors(schema_of[o.topic], o.value)

    index = VisitIndex()
    index.apply(visits_codec.decode_record(o.key, o.value) for o in built.outputs)
    gaps, encode = [], (lambda r: encode_result(r, index, rules.close_contact_s))
    for n, it in enumerate(itineraries):
        it = dataclasses.replace(it, submitted_at_ms=now_ms, submitted_by="tracer-1")
        assert not _errors("itinerary.v1", itinerary_codec.encode(it))
        first = next_revision(None, None, it, match(index, rules, it), now_ms, encode)
        assert not _errors("match-result.v1", first.case.json)
        record = audit_record(Principal("tracer-1", frozenset({"tracer"})), "submit", first.case,
                              now_ms, "127.0.0.1")
        assert not _errors("audit.v1", audit_codec.encode(record))
        # corrected without the card: every gap it flagged is withdrawn (resolved)
        corrected = dataclasses.replace(it, card_id=None)
        second = next_revision(first.case, first.case.result, corrected,
                               match(index, rules, corrected), now_ms + n, encode)
        assert second.published and not _errors("match-result.v1", second.case.json)
        assert {g.gap_id for g in second.gaps} == {g.gap_id for g in first.gaps}
        gaps += first.gaps + second.gaps
    assert {g.status for g in gaps} == {"open", "resolved"}
    for g in gaps:
        assert not _errors("gap.v1", gap_codec.encode(g))

    progress = InputProgress()
    step = ComplianceStep(s, venues.open_at, progress, broker.backend())
    inputs = {topics.checkins(s): by_topic[topics.checkins(s)],
              topics.heartbeats(s): by_topic[topics.heartbeats(s)],
              topics.headcounts(s): by_topic[topics.headcounts(s)],
              topics.gaps(s): [gap_codec.encode(g) for g in gaps]}
    step.assigned({(t, 0): 0 for t in inputs})
    judged = step.process([r for t, values in inputs.items() for r in records(t, values)], now_ms)
    for t in inputs:
        progress.reached_end(t, 0, 0)
    ticked = step.tick(now_ms)
    outputs = judged.outputs + (ticked.outputs if ticked else [])
    assert not judged.dead
    kinds = {json.loads(o.value)["kind"] for o in outputs}
    assert {"hour", "day", "coverage", "gap", "venue_qr"} <= kinds
    for o in outputs:
        assert not _errors(schema_of[o.topic], o.value), o

    inspector = Headcount("insp-1", world.venues[0].venue_id, START, START + 600_000, 12,
                          "inspector", "hue-insp-1")  # as the API writes one per inspection
    assert not _errors("headcount.v1", headcount_codec.encode(inspector))
