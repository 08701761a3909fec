"""The stream jobs, run as they run in a worker (``BatchJob`` threads: consume, step, produce,
commit), on whichever backend the subclass gives: the ingest job forwards and refuses, the
visits job's buckets equal the brute-force reference -- also after a new instance rebuilt its
state from the committed history, and with a dwell per venue category read from the venue
registry -- the compliance job counts, the dead-letter guard pauses a
job and resumes it when told, and a bug stops it without committing the batch."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import orjson
import pytest

from tests.reference import reference_buckets, reference_visits
from tests.suites.env import Env
from truyvet import topics
from truyvet.codec import card_scan, checkin
from truyvet.codec import control as control_codec
from truyvet.codec import venue as venue_codec
from truyvet.codec import compliance as compliance_codec
from truyvet.codec import visits as visits_codec
from truyvet.codec.checkin import CheckIn
from truyvet.codec.compliance import HourFigures
from truyvet.codec.deadletter import DeadLetter
from truyvet.jobs.app import batch_jobs
from truyvet.jobs.compliance import compliance_job
from truyvet.jobs.control import Control
from truyvet.jobs.ingest import IngestStep, ingest_job
from truyvet.jobs.runtime import BatchJob, JobStopped
from truyvet.jobs.step import StepResult
from truyvet.jobs.visits import visits_job
from truyvet.kafka.record import Record
from truyvet.kafka.registry import VenueRegistry
from truyvet.producers.scans import ScanPublisher
from truyvet.settings import Settings


def _until(ready, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def _command(env: Env, at_ms: int) -> None:
    """``truyvet dlq resume ingest`` as the control topic holds it, given at ``at_ms``."""
    p = env.backend.producer("operator")
    c = control_codec.Command("resume", "ingest", at_ms, "ops-hue-1")
    p.produce(topics.control(env.s), control_codec.key(c), control_codec.encode(c))
    assert p.flush(30) == 0


def _paused_metric() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("truyvet_job_paused", {"job": "ingest"}) or 0.0


def wait_stopped(job: BatchJob, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while job.alive and time.monotonic() < deadline:
        time.sleep(0.05)


@contextmanager
def running(job: BatchJob) -> Iterator[BatchJob]:
    job.start()
    try:
        yield job
    finally:
        job.stop()


def _scans(n: int, now_s: int, seed: int, prefix: str = "e") -> list[CheckIn]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = now_s - rng.randint(600, 5 * 86_400)
        out.append(CheckIn(f"{prefix}{i}", f"card-{rng.randrange(40)}", f"V{rng.randrange(6)}",
                           "s1", rng.choice(["in", "in", "out"]), t * 1000, "card"))
    return out


def _register(env: Env, s: Settings, categories: dict[str, str]) -> None:
    """Venues in the registry topic, each of its category, open all week."""
    p = env.backend.producer("registry-test")
    for vid, category in categories.items():
        v = venue_codec.from_mapping({
            "venue_id": vid, "name": f"Venue {vid}", "district": "Huế", "ward": "Phú Hội",
            "category": category, "opening_hours": venue_codec.parse_hours_text("mon-sun 00:00-24:00"),
            "scanning_points": 1, "staff_count": 1})
        p.produce(topics.venues(s), venue_codec.key(v), venue_codec.encode(v))
    assert p.flush(30) == 0


def _buckets(env: Env, s: Settings) -> dict[tuple[str, int, str], list[tuple[int, int]]]:
    """The visits topic as it stands: (venue, day, card) -> [(start, end)] of each bucket's
    latest record, empty buckets (tombstones) left out."""
    latest: dict[bytes, bytes | None] = {}
    for r in env.records(topics.visits(s)):
        latest[r.key] = r.value  # type: ignore[index]
    got = {}
    for key, value in latest.items():
        venue, day, card, visits = visits_codec.decode_record(key, value)
        if visits:
            got[(venue, day, card)] = sorted(visits)
    return got


class JobSuite:
    """Subclasses provide the ``env`` fixture: topics of the catalogue, 4 partitions."""

    def _publish(self, env: Env, scans: Sequence[CheckIn], raw: Sequence[bytes] = ()) -> None:
        pub = ScanPublisher(env.s, backend=env.backend)
        for c in scans:
            pub.publish(c)
        for i, payload in enumerate(raw):
            pub.publish_raw(f"V{i % 6}", payload)
        assert pub.flush() == 0 and not pub.producer.stats.failures

    def test_ingest_forwards_valid_scans_by_card_and_refuses_the_rest(self, env: Env) -> None:
        s, now_s = env.s, int(time.time())
        scans = _scans(300, now_s, 1)
        bad = [b"{", orjson.dumps({**checkin.to_mapping(scans[0]), "direction": "sideways"}),
               orjson.dumps({**checkin.to_mapping(scans[1]), "scanned_at": "2099-01-01T00:00:00Z"})]
        self._publish(env, scans, bad)
        with running(ingest_job(s, env.backend)) as job:
            env.wait_committed_to_end(job.group, topics.checkins(s), alive=lambda: job.alive)
        assert job.error is None
        forwarded = env.records(topics.scans_by_card(s))
        assert sorted(card_scan.decode(r.value).event_id for r in forwarded) == \
            sorted(c.event_id for c in scans)  # type: ignore[arg-type]
        assert all(r.key == card_scan.decode(r.value).card_id.encode() for r in forwarded)  # type: ignore[arg-type]
        dead = [DeadLetter.from_record(r.value, r.key, r.headers)
                for r in env.records(topics.deadletter(s))]
        assert sorted(d.reason for d in dead) == ["bad_enum", "not_json", "timestamp_in_future"]
        assert {d.payload for d in dead} == set(bad) and all(d.stage == "ingest" for d in dead)

    def test_visit_buckets_equal_the_reference_also_after_a_rebuild(self, env: Env) -> None:
        s, now_s = env.s, int(time.time())
        rules = s.rules()
        dwell = rules.dwell_function(lambda v: None)
        first, late = _scans(400, now_s, 2), _scans(150, now_s, 3, prefix="late")
        self._publish(env, first)
        with running(ingest_job(s, env.backend)) as ingest:
            with running(visits_job(s, rules, dwell, env.backend)) as visits:
                env.wait_committed_to_end(ingest.group, topics.checkins(s))
                env.wait_committed_to_end(visits.group, topics.scans_by_card(s),
                                          alive=lambda: visits.alive)
            # a new visits job: its state rebuilt from the history it committed, then the
            # late scans (inserted between the ones it had) change the buckets they touch
            self._publish(env, late + first[:20])  # and a few re-sent
            with running(visits_job(s, rules, dwell, env.backend)) as again:
                env.wait_committed_to_end(ingest.group, topics.checkins(s))
                env.wait_committed_to_end(again.group, topics.scans_by_card(s),
                                          alive=lambda: again.alive)
        ref = reference_visits(
            [(c.card_id, c.event_id, c.venue_id, c.direction, c.scanned_at_ms // 1000)
             for c in first + late], dwell, now_s, rules.retention_s)
        assert _buckets(env, s) == reference_buckets(ref)

    def test_per_category_dwell_set_by_the_setting_applies_through_the_registry(
            self, env: Env) -> None:
        """TRUYVET_DWELL_MINUTES=60,office=540,hotel=720 through the worker's own wiring
        (``batch_jobs`` with the venue registry followed from its topic): a visit without an exit
        scan lasts 9 hours at an office, 12 at a hotel, 60 minutes at a cafe, at a school (no
        dwell of its own) and at a venue the registry does not know; the buckets equal the
        reference given those dwells, written here per venue."""
        s, now_s = env.s.replace(dwell_minutes="60,office=540,hotel=720"), int(time.time())
        registered = {"V0": "office", "V1": "office", "V2": "cafe", "V3": "hotel", "V4": "school"}
        dwell_of = {"V0": 540 * 60, "V1": 540 * 60, "V2": 3600, "V3": 720 * 60, "V4": 3600,
                    "V5": 3600}  # V5: not in the registry
        t0 = now_s - now_s % 86_400 - 2 * 86_400 + 3600  # 01:00 UTC two days ago
        alone = [CheckIn(f"alone-{v}", f"alone-{v}", v, "s1", "in", t0 * 1000, "card")
                 for v in dwell_of]  # one entry each, never followed: the dwell alone ends it
        scans = alone + _scans(400, now_s, 5)
        self._publish(env, scans)
        _register(env, s, registered)
        registry = VenueRegistry(s, env.backend).start(timeout=60)
        try:
            ingest, visits = batch_jobs(s, registry, ("ingest", "visits"), env.backend)
            with running(ingest), running(visits):
                env.wait_committed_to_end(ingest.group, topics.checkins(s),
                                          alive=lambda: ingest.alive)
                env.wait_committed_to_end(visits.group, topics.scans_by_card(s),
                                          alive=lambda: visits.alive)
        finally:
            registry.stop()
        assert ingest.error is None and visits.error is None
        got = _buckets(env, s)
        for venue, dwell_s in dwell_of.items():
            assert got[(venue, t0 // 86_400, f"alone-{venue}")] == [(t0, t0 + dwell_s)]
        ref = reference_visits(
            [(c.card_id, c.event_id, c.venue_id, c.direction, c.scanned_at_ms // 1000)
             for c in scans], dwell_of.__getitem__, now_s, s.rules().retention_s)
        assert got == reference_buckets(ref)

    def test_compliance_counts_each_scan_once(self, env: Env) -> None:
        s, now_s = env.s, int(time.time())
        t0 = now_s - now_s % 3600 - 7200
        scans = [CheckIn(f"c{i}", f"card{i}", "VC", "VC-s1", "in" if i < 5 else "out",
                         (t0 + 60 * i) * 1000, "app" if i % 2 else "card") for i in range(8)]
        self._publish(env, scans + scans[:3])  # three re-sent
        with running(compliance_job(s, lambda t: {}, env.backend)) as job:
            env.wait_committed_to_end(job.group, topics.checkins(s), alive=lambda: job.alive)
        hours = [compliance_codec.decode(r.value) for r in env.records(topics.compliance(s))  # type: ignore[arg-type]
                 if r.key and b"\x1fhour\x1f" in r.key]
        last = hours[-1]
        assert isinstance(last, HourFigures) and last.hour == t0 // 3600
        assert (last.scans_in, last.scans_out, last.card, last.app, last.cards) == (5, 3, 4, 4, 8)

    def test_the_guard_pauses_its_job_and_a_resume_dead_letters_the_batch_once(
            self, env: Env) -> None:
        """Mostly refused inputs pause the job (alive, in /metrics), with nothing of the
        tripping batch sent or committed; a resume command older than the pause does not
        resume it; a newer one (through the control topic) does, and every refused input is
        then dead-lettered exactly once."""
        s = env.s.replace(dlq_max_share=0.5, dlq_max_consecutive=0)
        bad = [b"not a scan %d" % i for i in range(1500)]
        self._publish(env, [], bad)
        checkins, dlq = topics.checkins(s), topics.deadletter(s)
        _command(env, int(time.time() * 1000) - 60_000)  # given before: must not apply
        job = ingest_job(s, env.backend)
        control = Control(s, [job], env.backend)
        with running(job):
            control.start()
            try:
                _until(lambda: job.paused is not None)
                assert job.alive and "TRUYVET_DLQ_MAX_SHARE" in (job.paused or "")
                assert _paused_metric() == 1.0
                assert control.follower.wait_caught_up(30) and job.paused is not None
                committed = sum(env.committed(job.group, checkins).values())
                assert committed < 1500  # the tripping batch is not committed ...
                assert len(env.records(dlq)) == committed  # ... nor its dead letters sent
                _command(env, int(time.time() * 1000) + 1)
                env.wait_committed_to_end(job.group, checkins, alive=lambda: job.alive)
                _until(lambda: len(env.records(dlq)) >= 1500)
            finally:
                control.stop()
        assert job.paused is None and job.error is None and _paused_metric() == 0.0
        payloads = sorted(r.value for r in env.records(dlq))
        assert payloads == sorted(bad)  # each refused input dead-lettered once

    def test_a_bug_stops_the_job_and_its_batch_is_not_committed(self, env: Env,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
        s = env.s
        self._publish(env, _scans(50, int(time.time()), 4))

        def broken(self: IngestStep, batch: Sequence[Record], now_ms: int) -> StepResult:
            raise KeyError("a bug, not bad data")

        monkeypatch.setattr(IngestStep, "process", broken)
        job = ingest_job(s, env.backend)
        with running(job):
            wait_stopped(job)
        assert isinstance(job.error, JobStopped) and "KeyError" in str(job.error)
        assert sum(env.committed(job.group, topics.checkins(s)).values()) == 0
        assert env.records(topics.deadletter(s)) == []  # a bug is not dead-lettered
