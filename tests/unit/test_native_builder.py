"""The compiled visit builder answers every call exactly as the Python reference does: the
buckets apply() returns (order included), what add() says it touched, what purge() drops, the
scans held -- on generated streams with duplicates, two scans claiming one event_id, late and
out-of-order arrival, scans around the retention's edge, purges between batches, and a
dwell that differs per venue. (Both are also checked against the brute-force reference in
test_matching_properties.py.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.builders import compiled
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
