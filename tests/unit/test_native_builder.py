"""The compiled visit builder answers every call exactly as the Python reference does: the
buckets apply() returns (order included), what add() says it touched, what purge() drops, the
scans held -- on generated streams with duplicates, two scans claiming one event_id, late and
out-of-order arrival, scans around the retention's edge, purges between batches, and a
dwell that differs per venue. (Both are also checked against the brute-force reference in
test_matching_properties.py.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import orjson

from tests.unit.builders import compiled
from truyvet.codec import card_scan, checkin
from truyvet.codec.checkin import CheckIn
from truyvet.codec.errors import InvalidEvent
from truyvet.jobs.visits import apply_records, to_scan
from truyvet.kafka.partitioner import partition_of
from truyvet.domain.matching.visit_builder import VisitBuilder
from truyvet.domain.matching.visits import Scan

NOW = 1_800_000_000
DAY = 86_400
RETENTION = 3 * DAY
DWELL = {"A": 3600, "B": 1800, "Cà phê": 7200, "D": 60}

scan_st = st.builds(
    Scan,
    st.one_of(st.integers(NOW - 4 * DAY, NOW + 600),  # past the retention too
              st.integers(0, 60).map(lambda k: NOW - DAY // 2 + 300 * k)),  # dense: ties
    st.integers(0, 30).map(lambda i: f"e{i}"),  # few ids: duplicates and conflicts
    st.sampled_from(sorted(DWELL)),
    st.sampled_from(["in", "out"]),
)
step_st = st.one_of(
    st.tuples(st.just("apply"), st.sampled_from(["ann", "bob", "cid"]),
              st.lists(scan_st, max_size=6), st.integers(NOW - DAY, NOW + DAY)),
    st.tuples(st.just("add"), st.sampled_from(["ann", "bob"]), scan_st, st.just(NOW)),
    st.tuples(st.just("purge"), st.integers(NOW - DAY, NOW + 3 * DAY)),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(step_st, min_size=1, max_size=40))
def test_the_compiled_builder_answers_as_the_reference(steps) -> None:
    reference = VisitBuilder(DWELL.__getitem__, RETENTION)
    native = compiled(DWELL.__getitem__, RETENTION)
    for step in steps:
        if step[0] == "apply":
            _, card, scans, now = step
            assert native.apply(card, scans, now) == reference.apply(card, scans, now)
        elif step[0] == "add":
            _, card, scan, now = step
            assert native.add(card, scan, now) == reference.add(card, scan, now)
        else:
            assert native.purge(step[1]) == reference.purge(step[1])
        assert native.scans == reference.scans
        assert len(native) == len(reference.cards)


def test_the_dwell_is_asked_again_in_every_call() -> None:
    """A venue's category (hence its dwell) may change in the registry between batches."""
    dwell = {"A": 3600}
    native = compiled(dwell.__getitem__, RETENTION)
    assert native.apply("ann", [Scan(NOW, "e1", "A", "in")], NOW)[0].visits == ((NOW, NOW + 3600),)
    dwell["A"] = 60
    assert native.apply("ann", [Scan(NOW, "e1", "A", "in")], NOW)[0].visits == ((NOW, NOW + 60),)


def test_a_direction_other_than_in_or_out_is_an_error_not_a_guess() -> None:
    native = compiled(DWELL.__getitem__, RETENTION)
    try:
        native.apply("ann", [Scan(NOW, "e1", "A", "sideways")], NOW)
    except ValueError as exc:
        assert "sideways" in str(exc)
    else:
        raise AssertionError("accepted a direction that is neither in nor out")


# --- the visits step's records in one call: apply_records ------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6) | \
    st.sampled_from(["V1", "Cà phê \"Tam\" Giang\\", "tab\t", "nul\x00", "del\x7f", "/", "😀"])


def _card_scan_value(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["scan"] * 6 + ["object", "odd", "garbage", "none"]))
    scan = CheckIn(draw(st.integers(0, 12).map(lambda i: f"e{i}")), draw(st.sampled_from(["ann", "bob", "Cà", 'q"', "b\\s", "\x00", "\t\n\x08\x0c\r", "\x1f\x7f"])),
                   draw(st.sampled_from(["A", "B", "Cà phê", "D", '"V"', "\\", "\x01/😀"])), draw(text),
                   draw(st.sampled_from(["in", "out"])),
                   draw(st.integers(0, 40).map(lambda k: (NOW - DAY // 2 + 600 * k) * 1000 + k)),
                   draw(st.sampled_from(["card", "app", "venue_qr"])))
    if kind == "scan":
        return card_scan.encode(scan)
    if kind == "object":  # a check-in v1 object (a rolling upgrade): the codec reads it
        return checkin.encode(scan)
    if kind == "odd":  # what the codec accepts or refuses but ingest never writes
        items = [1, scan.event_id, scan.card_id, scan.venue_id, scan.scanner_id, scan.direction,
                 scan.scanned_at_ms, scan.method]
        i = draw(st.integers(0, 7))
        items[i] = draw(st.sampled_from([True, 1.0, 2**70, None, "x", [], "IN"]))
        return _dumps(items)
    if kind == "garbage":
        return draw(st.sampled_from([b"", b"[", b"[1,2]", b'"\\ud800"', b"\xff", b"[1]" * 2]))
    return None


def _dumps(items: list) -> bytes:  # type: ignore[type-arg]
    return ("[" + ",".join(str(x) if type(x) is int and abs(x) > 2**63 else
                           orjson.dumps(x).decode() for x in items) + "]").encode()


records_st = st.lists(st.composite(lambda draw: _card_scan_value(draw))(), min_size=1, max_size=30)


@settings(max_examples=400, deadline=None)
@given(st.lists(records_st, min_size=1, max_size=4))
def test_apply_records_answers_as_the_reference(batches) -> None:
    def dwell(venue: str) -> int:
        return DWELL.get(venue, 900)

    reference = VisitBuilder(dwell, RETENTION)
    native = compiled(dwell, RETENTION)
    for values in batches:
        refused: dict[str, list] = {"reference": [], "compiled": []}  # type: ignore[type-arg]

        def decoded_by(who: str):  # type: ignore[no-untyped-def]
            def decoded(i: int, raw: bytes | None):  # type: ignore[no-untyped-def]
                try:
                    c = card_scan.decode(raw or b"")
                except InvalidEvent as exc:
                    refused[who].append((i, exc.reason))
                    return None
                return c.card_id, to_scan(c)
            return decoded

        def venue_partition(venue: str) -> int:
            return partition_of(venue.encode(), 12)

        want = apply_records(reference, values, NOW, NOW * 1000 + 5, decoded_by("reference"),
                             venue_partition)
        got = native.apply_records(values, NOW, NOW * 1000 + 5, decoded_by("compiled"),
                                   venue_partition)
        assert got == want
        assert refused["compiled"] == refused["reference"]
        assert native.scans == reference.scans
