"""The codecs' fast paths (what scanners send, read in one pass of cheap tests) accept exactly
what the full rules accept and give the same answer; whatever they do not take is judged by the
full rules, which say why it is refused. The reference here is each module's full-rules
function, kept for exactly this: checkin.from_mapping_reference, timefmt.parse_ms_reference."""

from __future__ import annotations

from typing import Any

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.codec import card_scan, checkin, timefmt
from truyvet.codec.errors import InvalidEvent

# timestamps near the fast path's forms: digits (some not ASCII), separators, lengths, seconds
# past 59, fractions of 1..9 digits, offsets, lower-case t and z, dates that do not exist
digit = st.sampled_from("0123456789") | st.sampled_from("٣९")
two = st.tuples(digit, digit).map("".join)
stamp = st.builds(
    lambda y, mo, d, t, h, mi, sep, s, frac, zone: f"{y}-{mo}-{d}{t}{h}:{mi}{sep}{s}{frac}{zone}",
    st.sampled_from(["2021", "2026", "2019", "2100", "２０２１"]),
    st.sampled_from(["01", "02", "12", "13", "00"]), st.sampled_from(["01", "28", "29", "30", "31"]),
    st.sampled_from("Tt "), st.sampled_from(["00", "09", "23", "24"]), st.sampled_from(["00", "59", "60"]),
    st.sampled_from("::-"), two,
    st.sampled_from(["", ".1", ".12", ".123", ".1234", ".123456789", ".", ".12a"]),
    st.sampled_from(["Z", "z", "+07:00", "-00:30", "+24:00", "", "ZZ"]),
)


def outcome(f, *args: Any) -> Any:  # type: ignore[no-untyped-def]
    try:
        return f(*args)
    except InvalidEvent as exc:
        return ("refused", exc.reason, exc.detail)


@settings(max_examples=2000)
@given(st.lists(stamp, min_size=1, max_size=8))
def test_parse_ms_equals_the_full_rules(values: list[str]) -> None:
    timefmt._MINUTES.clear()  # the fast path answers only for minutes the full rules parsed
    for value in values + values:  # the second time round, from the fast path's cache
        assert outcome(timefmt.parse_ms, value) == outcome(timefmt.parse_ms_reference, value)


identifier = st.sampled_from(["e1", "TKS-46-0008581", "", "x" * 128, "x" * 129, "tab\there",
                              "del\x7f", "Cà phê", "nul\x00", " "]) | st.text(max_size=4)
value = st.one_of(identifier, st.integers(-1, 2), st.none(), st.floats(0, 2), st.booleans(),
                  st.lists(st.integers(), max_size=1))
checkin_obj = st.fixed_dictionaries(
    {},
    optional={
        "v": st.sampled_from([1, 1.0, 2, True, "1", None]),
        "event_id": value, "card_id": value, "venue_id": value, "scanner_id": value,
        "direction": st.sampled_from(["in", "out", "IN", ""]) | value,
        "scanned_at": st.sampled_from(["2021-12-06T10:00:00Z", "2021-12-06T10:00:00.5+07:00",
                                       "2021-02-29T10:00:00Z", "yesterday"]) | value,
        "method": st.sampled_from(["card", "app", "venue_qr", "poster"]) | value,
        "extra": value,
    },
)
complete = st.fixed_dictionaries({
    "event_id": identifier, "card_id": identifier, "venue_id": identifier,
    "scanner_id": identifier, "direction": st.sampled_from(["in", "out"]),
    "scanned_at": stamp, "method": st.sampled_from(["card", "app", "venue_qr"]),
})


@settings(max_examples=1500)
@given(st.one_of(checkin_obj, complete, st.lists(st.integers(), max_size=2), st.text(max_size=3)))
def test_checkin_from_mapping_equals_the_full_rules(obj: Any) -> None:
    assert outcome(checkin.from_mapping, obj) == outcome(checkin.from_mapping_reference, obj)


def card_scan_reference(raw: bytes):  # type: ignore[no-untyped-def]
    """The scan-by-card rules as written before the fast path (test_checkin_codec covers the
    object form)."""
    import orjson

    obj = orjson.loads(raw)
    if (type(obj) is not list or len(obj) != 8 or obj[0] != card_scan.VERSION
            or type(obj[6]) is not int or obj[5] not in ("in", "out")
            or not all(type(x) is str for x in obj[1:6])):
        return ("refused",)
    return checkin.CheckIn(*obj[1:])


@settings(max_examples=1000)
@given(st.lists(st.one_of(st.integers(0, 2), st.text(max_size=3), st.sampled_from(["in", "out"]),
                          st.none(), st.booleans(), st.floats(0, 2)), min_size=6, max_size=9))
def test_card_scan_decode_equals_the_rules(items: list[Any]) -> None:
    import orjson

    raw = orjson.dumps(items)
    got = outcome(card_scan.decode, raw)
    want = card_scan_reference(raw)
    assert (got[0] == "refused") if want == ("refused",) else (got == want)


# --- the compiled reading of check-ins (native/: read_checkins) -------------------------------

NOW_MS = 1_800_000_000_000
FUTURE_MS = 300_000


def _raw_checkin(draw: st.DrawFn) -> bytes | None:
    obj = draw(st.one_of(complete, checkin_obj))
    if draw(st.booleans()):
        obj["scanned_at"] = draw(st.sampled_from([
            "2027-01-15T08:00:00Z", "2027-01-15T08:00:00.250Z", "2027-01-15T08:04:59Z",
            "2027-01-15T08:05:01Z",  # past the allowed skew of NOW_MS + 5 minutes
            "2024-02-29T23:59:59Z", "2023-02-29T10:00:00Z", "2020-01-01T00:00:00Z",
            "2099-12-31T23:59:59.999Z", "2019-12-31T23:59:59Z", "2027-01-15t08:00:00Z"]))
    kind = draw(st.sampled_from(["json"] * 8 + ["dup", "big", "none", "huge", "bytes"]))
    if kind == "none":
        return None
    raw = json.dumps(obj, ensure_ascii=draw(st.booleans()), separators=(",", ":")).encode()
    if kind == "dup":  # a repeated key: orjson keeps the last
        return raw[:-1] + b',"direction":"out"}'
    if kind == "big":  # an unknown field orjson refuses outright
        return raw[:-1] + b',"extra":123456789012345678901234567890}'
    if kind == "huge":
        return raw[:-1] + b',"pad":"' + b"x" * 4100 + b'"}'
    if kind == "bytes":
        return raw.replace(b"e", b"\xff", 1)
    return raw


def _by_the_rules(raw: bytes | None):  # type: ignore[no-untyped-def]
    from truyvet.jobs.ingest import forwarded
    from truyvet.domain.checkins import accept

    try:
        return forwarded(accept(raw, NOW_MS, FUTURE_MS))
    except InvalidEvent:
        return None


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.composite(lambda draw: _raw_checkin(draw))(), min_size=1, max_size=5))
def test_read_checkins_forwards_only_what_the_rules_accept_and_as_they_do(values) -> None:
    from tests.unit.builders import native_core

    for raw, got in zip(values, native_core().read_checkins(values, NOW_MS, FUTURE_MS), strict=True):
        if got is not None:  # None: the Python rules judge it (whatever their verdict)
            assert got == _by_the_rules(raw), raw


def test_read_checkins_reads_every_scan_the_simulator_sends() -> None:
    """The fast path is the common path: what the province's scanners send never falls back."""
    import itertools

    from tests.unit.builders import native_core
    from truyvet.producers.simulator.timeline import Timeline
    from truyvet.producers.simulator.world import build_world

    events = Timeline(build_world(3, 2_000), NOW_MS - 86_400_000).events()
    scans = [checkin.encode(e.payload) for e in itertools.islice(
        (e for e in events if e.kind == "scan"), 2_000)]
    got = native_core().read_checkins(scans, NOW_MS, FUTURE_MS)
    assert got == [_by_the_rules(raw) for raw in scans]
    assert None not in got


# --- the compiled reading of check-ins for the compliance job (native/: accept_checkins) -----

def _accepted(raw: bytes | None):  # type: ignore[no-untyped-def]
    from truyvet.domain.checkins import accept

    try:
        return accept(raw, NOW_MS, FUTURE_MS)
    except InvalidEvent:
        return None


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.composite(lambda draw: _raw_checkin(draw))(), min_size=1, max_size=5))
def test_accept_checkins_reads_only_what_the_rules_accept_and_as_they_do(values) -> None:
    from tests.unit.builders import native_core

    got = native_core().accept_checkins(values, NOW_MS, FUTURE_MS, checkin.CheckIn)
    for raw, scan in zip(values, got, strict=True):
        if scan is not None:  # None: the Python rules judge it (whatever their verdict)
            assert type(scan) is checkin.CheckIn and scan == _accepted(raw), raw


def test_accept_checkins_reads_every_scan_the_simulator_sends() -> None:
    import itertools

    from tests.unit.builders import native_core
    from truyvet.producers.simulator.timeline import Timeline
    from truyvet.producers.simulator.world import build_world

    events = Timeline(build_world(3, 2_000), NOW_MS - 86_400_000).events()
    scans = [checkin.encode(e.payload) for e in itertools.islice(
        (e for e in events if e.kind == "scan"), 2_000)]
    got = native_core().accept_checkins(scans + [None], NOW_MS, FUTURE_MS, checkin.CheckIn)
    assert got == [_accepted(raw) for raw in scans] + [None]  # None: not bytes, not read here


def test_the_compliance_step_makes_the_same_records_with_the_compiled_reading_as_without(
        monkeypatch) -> None:
    """Check-ins (some refused, some not bytes of the simple form), heartbeats and headcounts
    of a simulated day through the compliance step, once reading check-ins with the compiled
    core and once with the Python rules alone: the same records, alerts and dead letters."""
    import itertools

    from tests.unit.builders import native_core
    from truyvet import topics
    from truyvet.codec import headcount, heartbeat
    from truyvet.jobs import compliance
    from truyvet.jobs.progress import InputProgress
    from truyvet.kafka.record import Record
    from truyvet.producers.simulator.timeline import Timeline
    from truyvet.producers.simulator.world import build_world
    from truyvet.settings import Settings

    s = Settings.from_env(env={}, topic_prefix="unit")
    now_ms = NOW_MS
    encode = {"scan": (topics.checkins(s), checkin.encode),
              "heartbeat": (topics.heartbeats(s), heartbeat.encode),
              "headcount": (topics.headcounts(s), headcount.encode)}
    events = (e for e in Timeline(build_world(3, 2_000), now_ms - 86_400_000).events()
              if e.kind in encode)
    records = []
    for i, e in enumerate(itertools.islice(events, 6_000)):
        topic, enc = encode[e.kind]
        value = enc(e.payload)
        if e.kind == "scan" and i % 97 == 0:  # refused: not JSON, from the future, too long
            value = [b"{", value.replace(b'"20', b'"29', 1), value[:-1] + b',"x":1}'][i % 3]
        records.append(Record(topic, i % s.checkin_partitions, i, b"k", value, now_ms))

    def run() -> list:
        progress = InputProgress(clock_topics=[topics.checkins(s), topics.heartbeats(s)])
        step = compliance.ComplianceStep(s, lambda t: {}, progress)
        out = []
        for k in range(0, len(records), 500):
            batch = records[k:k + 500]
            for r in batch:
                progress.read(r.topic, r.partition, r.timestamp_ms)
            result = step.process(batch, now_ms)
            out.append(([(o.topic, o.key, o.value, o.partition) for o in result.outputs],
                        [(d.value, d.key) for d in result.dead]))
        return out

    native_core()  # fails the test when the compiled core is not built
    with_core = run()
    monkeypatch.setattr(compliance, "compiled", None)
    assert with_core == run()
    assert sum(len(o) for o, _ in with_core) > 1_000
