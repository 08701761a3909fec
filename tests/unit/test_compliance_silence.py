"""Silence is judged at the time the compliance job's inputs are read up to, not by the wall
clock: a job catching up on hours of backlog must not call silent every venue whose later
heartbeats it has not read yet (it did: `truyvet run --backfill -24h` flagged compliant cafés)."""

from __future__ import annotations

from pathlib import Path

import orjson
from confluent_kafka import TIMESTAMP_CREATE_TIME, Message

from stream_jobs.compliance.job import ComplianceStep
from stream_jobs.progress import InputProgress
from truyvet import topics
from truyvet.codec import signals
from truyvet.codec.venue import OpenVenue
from truyvet.settings import Settings

NOW_S = 1_780_000_000 - 1_780_000_000 % 3600
PARTITION = 3


def _heartbeats(venue: str, from_s: int, to_s: int, s: Settings) -> list[Message]:
    return [Message(topic=topics.heartbeats(s), partition=PARTITION, offset=i, key=venue.encode(),
                    value=signals.encode_heartbeat(signals.Heartbeat(f"{venue}-s1", venue, t * 1000)),
                    timestamp=(TIMESTAMP_CREATE_TIME, t * 1000))
            for i, t in enumerate(range(from_s, to_s, 600))]


def _silent(step: ComplianceStep, now_s: int) -> set[str]:
    result = step.tick(now_ms=now_s * 1000)
    if result is None:
        return set()
    assert not result.dead
    return {orjson.loads(o.value)["venue_id"] for o in result.outputs
            if orjson.loads(o.value)["kind"] == "silent"}


def test_a_backlog_is_not_silence_but_a_switched_off_scanner_is(tmp_path: Path) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path, topic_prefix="unit")
    progress = InputProgress()
    open_since = NOW_S - 12 * 3600  # both venues open all day
    step = ComplianceStep(s, lambda t: {"GOOD": OpenVenue(1, open_since),
                                        "OFF": OpenVenue(1, open_since)}, progress)
    step.silence_every_s = 0.0
    # six hours of heartbeats: GOOD throughout, OFF switched off two hours ago
    good = _heartbeats("GOOD", NOW_S - 6 * 3600, NOW_S, s)
    off = _heartbeats("OFF", NOW_S - 6 * 3600, NOW_S - 2 * 3600, s)
    backlog = sorted(good + off, key=lambda m: m.timestamp()[1])
    first, rest = backlog[: len(backlog) // 3], backlog[len(backlog) // 3:]

    def read(batch: list[Message]) -> None:
        for m in batch:
            progress.read(m.topic(), m.partition(), m.timestamp()[1])
        step.process(batch, NOW_S * 1000)

    # nothing said about the other three inputs yet: no judgement at all
    read(first)
    assert _silent(step, NOW_S) == set()
    # the other inputs are at their end; heartbeats read up to ~4h40 ago: judged then
    for topic in (topics.checkins(s), topics.headcounts(s), topics.gaps(s)):
        progress.reached_end(topic, PARTITION)
    assert progress.complete_to_ms(step.inputs, PARTITION, NOW_S * 1000) \
        == first[-1].timestamp()[1]
    assert _silent(step, NOW_S) == set()  # the wall clock says 4h40 of silence: not read yet
    read(rest)
    progress.reached_end(topics.heartbeats(s), PARTITION)
    assert _silent(step, NOW_S) == {"OFF"}
    assert _silent(step, NOW_S) == set()  # raised once in the hour


def test_judged_at_once_when_first_caught_up_then_every_minute(tmp_path: Path) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path, topic_prefix="unit")
    progress = InputProgress()
    step = ComplianceStep(s, lambda t: {"OFF": OpenVenue(1, t - 86_400)}, progress)
    step.process(_heartbeats("OFF", NOW_S - 3 * 3600, NOW_S - 2 * 3600, s), NOW_S * 1000)
    step.tick(now_ms=NOW_S * 1000)  # the first tick: nothing known of the inputs yet
    assert step.tick(now_ms=NOW_S * 1000) is None  # and not due again for a minute
    for topic in step.inputs:
        progress.reached_end(topic, PARTITION)
    assert _silent(step, NOW_S) == {"OFF"}  # read up to now: judged without waiting


def test_input_progress() -> None:
    p = InputProgress()
    assert p.complete_to_ms(["a", "b"], 0, 1000) is None
    p.read("a", 0, 400)
    p.read("a", 0, 300)  # a late event does not move it back
    p.reached_end("b", 0)
    assert p.complete_to_ms(["a", "b"], 0, 1000) == 400
    p.reached_end("a", 0)
    assert p.complete_to_ms(["a", "b"], 0, 1000) == 1000
    p.read("b", 0, 900)  # new records after the end: up to the newest read
    assert p.complete_to_ms(["a", "b"], 0, 1000) == 900
    assert p.complete_to_ms(["a", "b"], 1, 1000) is None  # another partition
    p.forget([("a", 0)])
    assert p.complete_to_ms(["a", "b"], 0, 1000) is None
