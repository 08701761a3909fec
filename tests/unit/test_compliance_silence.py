"""Silence is judged at the time the compliance job's inputs are read up to, not by the wall
clock: a job catching up on hours of backlog, or reading a backfill while it is published, must
not call silent every venue whose later heartbeats it has not read yet (it did: `truyvet run
--backfill -24h` flagged 215 compliant venues silent in its first seconds)."""

from __future__ import annotations

from pathlib import Path

import orjson

from truyvet.jobs.compliance import ComplianceStep
from truyvet.jobs.progress import IDLE_MS, InputProgress
from truyvet import topics
from truyvet.codec import heartbeat as heartbeat_codec
from truyvet.domain.venues import OpenVenue
from truyvet.kafka.record import Record
from truyvet.settings import Settings

NOW_S = 1_780_000_000 - 1_780_000_000 % 3600
PARTITION = 3


def _heartbeats(venue: str, from_s: int, to_s: int, s: Settings,
                partition: int = PARTITION) -> list[Record]:
    return [Record(topics.heartbeats(s), partition, i, venue.encode(),
                   heartbeat_codec.encode(heartbeat_codec.Heartbeat(f"{venue}-s1", venue, t * 1000)),
                   t * 1000)
            for i, t in enumerate(range(from_s, to_s, 600))]


def _silent(step: ComplianceStep, now_ms: int) -> set[str]:
    result = step.tick(now_ms=now_ms)
    if result is None:
        return set()
    assert not result.dead
    return {orjson.loads(o.value)["venue_id"] for o in result.outputs
            if orjson.loads(o.value)["kind"] == "silent"}


def _step(tmp_path: Path, venues: tuple[str, ...]) -> tuple[ComplianceStep, InputProgress]:
    s = Settings.from_env(env={}, data_dir=tmp_path, topic_prefix="unit")
    progress = InputProgress(clock_topics=[topics.checkins(s), topics.heartbeats(s)])
    open_since = NOW_S - 12 * 3600  # open all day
    step = ComplianceStep(s, lambda t: {v: OpenVenue(1, open_since) for v in venues}, progress)
    step.silence_every_s = 0.0
    return step, progress


def _read(step: ComplianceStep, progress: InputProgress, batch: list[Record]) -> None:
    for m in batch:
        progress.read(m.topic, m.partition, m.timestamp_ms)
    step.process(batch, NOW_S * 1000)


def test_a_backlog_is_not_silence_but_a_switched_off_scanner_is(tmp_path: Path) -> None:
    step, progress = _step(tmp_path, ("GOOD", "OFF"))
    s = step.s
    wall = NOW_S * 1000  # the wall clock, ms
    # six hours of heartbeats: GOOD throughout, OFF switched off two hours ago
    good = _heartbeats("GOOD", NOW_S - 6 * 3600, NOW_S, s)
    off = _heartbeats("OFF", NOW_S - 6 * 3600, NOW_S - 2 * 3600, s)
    backlog = sorted(good + off, key=lambda m: m.timestamp_ms)
    first, rest = backlog[: len(backlog) // 3], backlog[len(backlog) // 3:]
    read_to = first[-1].timestamp_ms  # ~4h40 ago

    _read(step, progress, first)
    assert _silent(step, wall) == set()  # nothing said of the other three inputs: no judgement
    empty = (topics.checkins(s), topics.headcounts(s), topics.gaps(s))
    for topic in empty:
        progress.reached_end(topic, PARTITION, wall)
    assert progress.complete_to_ms(step.inputs, PARTITION, wall) is None  # ends, not idle yet
    wall += IDLE_MS
    # the empty inputs are idle; the heartbeats are read up to ~4h40 ago: judged then
    assert progress.complete_to_ms(step.inputs, PARTITION, wall) == read_to
    assert _silent(step, wall) == set()  # the wall clock says 4h40 of silence: not read yet
    # a backfill being published: the consumer reaches the end of what is there so far, but
    # the end of what is published is not "now"
    progress.reached_end(topics.heartbeats(s), PARTITION, wall)
    assert progress.complete_to_ms(step.inputs, PARTITION, wall) == read_to
    assert _silent(step, wall) == set()
    _read(step, progress, rest)
    progress.reached_end(topics.heartbeats(s), PARTITION, wall)
    assert _silent(step, wall) == {"OFF"}  # read up to GOOD's last heartbeat: OFF quiet 2 h
    assert _silent(step, wall) == set()  # raised once in the hour


def test_an_idle_partition_is_as_far_as_the_province(tmp_path: Path) -> None:
    """OFF's partition holds nothing newer than two hours ago, ON's (another) was heard a
    minute ago. OFF's, at its end, is judged at its own newest record until it has been idle
    for a while, then at the province's time: OFF was silent."""
    step, progress = _step(tmp_path, ("OFF", "ON"))
    s = step.s
    wall = NOW_S * 1000
    _read(step, progress, _heartbeats("OFF", NOW_S - 3 * 3600, NOW_S - 2 * 3600, step.s)
          + _heartbeats("ON", NOW_S - 3 * 3600, NOW_S - 60, s, partition=PARTITION + 1))
    for topic in step.inputs:
        progress.reached_end(topic, PARTITION, wall)
    assert _silent(step, wall) == set()  # just caught up: judged at once, at its own newest
    assert _silent(step, wall + IDLE_MS) == {"OFF"}


def test_judged_at_once_when_first_caught_up_then_every_minute(tmp_path: Path) -> None:
    step, progress = _step(tmp_path, ("OFF",))
    step.silence_every_s = 60.0
    wall = NOW_S * 1000
    _read(step, progress, _heartbeats("OFF", NOW_S - 3 * 3600, NOW_S - 2 * 3600, step.s))
    _read(step, progress, _heartbeats("ON", NOW_S - 600, NOW_S, step.s, partition=PARTITION + 1))
    for topic in step.inputs:
        progress.reached_end(topic, PARTITION, wall - IDLE_MS)  # idle for a minute
    assert _silent(step, wall) == {"OFF"}  # the first tick
    assert step.tick(now_ms=wall) is None  # not due again for a minute


def test_input_progress() -> None:
    p = InputProgress(idle_ms=100)
    p.reached_end("a", 0, 0)
    p.reached_end("b", 0, 0)
    assert p.complete_to_ms(["a", "b"], 0, 1000) is None  # no record at all: no time yet
    p.read("a", 0, 400)
    p.read("a", 0, 300)  # a late event does not move it back
    assert p.complete_to_ms(["a", "b"], 0, 1000) == 400  # b, idle at its end: as far as a
    p.reached_end("a", 0, 950)
    assert p.complete_to_ms(["a", "b"], 0, 1000) == 400  # the end of a is not "now"
    p.read("c", 5, 700)  # another input is further ...
    assert p.complete_to_ms(["a", "b"], 0, 1000) == 400  # ... a is not idle yet
    assert p.complete_to_ms(["a", "b"], 0, 1050) == 700 and p.at_end(["a", "b"], 0)
    p.read("b", 0, 500)  # b is being read again: up to the newest read from it
    assert p.complete_to_ms(["a", "b"], 0, 1050) == 500 and not p.at_end(["a", "b"], 0)
    p.read("c", 5, 5000)
    p.reached_end("b", 0, 1000)
    assert p.complete_to_ms(["a", "b"], 0, 2000) == 2000  # never later than now
    assert p.complete_to_ms(["a", "b"], 1, 2000) is None  # another partition: nothing known
    p.forget([("a", 0)])
    assert p.complete_to_ms(["a", "b"], 0, 2000) is None


def test_only_the_scanners_topics_set_the_clock() -> None:
    """A gap flagged by the API now, while a backfill is still read, does not make idle
    partitions complete up to now."""
    p = InputProgress(clock_topics=["checkins"], idle_ms=0)
    p.read("checkins", 0, 400)
    p.read("gaps", 1, 5000)
    for key in [("checkins", 0), ("checkins", 1), ("gaps", 0), ("gaps", 1)]:
        p.reached_end(*key, 0)
    assert p.reached_ms == 400
    assert p.complete_to_ms(["checkins", "gaps"], 1, 9000) == 400  # not 5000 (the gap's)
