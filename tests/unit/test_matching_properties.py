"""The pure matching code equals the brute-force reference on generated scans: duplicates,
out-of-order and late arrival, missing exit scans, out scans without in."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.builders import BUILDERS
from tests.reference import reference_stop, reference_visits
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.overlap import StopAnswer, answer_stop_reference, answer_stops
from truyvet.domain.matching.rules import MatchRules
from truyvet.domain.matching.visits import Scan

NOW = 1_800_000_000
DAY = 86_400
BASE = NOW - NOW % DAY - 4 * 3600  # eight dense hours around a UTC midnight
CARDS = ["ann", "bob", "cid", "dan", "eve"]
VENUES = ["A", "A", "B", "C"]  # A is the busy one
DWELL = {"A": 3600, "B": 1800, "C": 7200}


def answer_stop(index: VisitIndex, rules: MatchRules, venue: str, frm: int, to: int,
                card: str) -> StopAnswer:
    """One stop, as the matcher answers it (the compiled core)."""
    return answer_stops(index, rules, [(venue, frm, to)], card)[0]


def dwell(venue: str) -> int:
    return DWELL[venue]


scan_st = st.tuples(
    st.sampled_from(CARDS), st.integers(0, 40).map(lambda i: f"e{i:02d}"),
    st.sampled_from(VENUES), st.sampled_from(["in", "out"]),
    st.sampled_from(["dense"] * 8 + ["wide", "edge"]).flatmap(lambda kind: {
        # dense: eight hours on a 5-minute grid (ties, touching and overlapping visits) ...
        "dense": st.integers(0, 96).map(lambda k: BASE + 300 * k),
        # ... anywhere in two days (long gaps, midnights), and around the retention edge
        "wide": st.integers(NOW - 2 * DAY, NOW),
        "edge": st.integers(NOW - 22 * DAY, NOW - 20 * DAY),
    }[kind]),
)


@st.composite
def scenarios(draw: st.DrawFn):
    scans = draw(st.lists(scan_st, min_size=1, max_size=60))
    # re-send some scans identically (duplicates), shuffle arrival (late, out of order)
    resent = draw(st.lists(st.sampled_from(scans), max_size=10))
    arrival = scans + resent
    seed = draw(st.integers(0, 2**32 - 1))
    random.Random(seed).shuffle(arrival)
    stops = draw(st.lists(st.tuples(
        st.one_of(st.sampled_from(CARDS), st.none()), st.sampled_from(VENUES),
        st.sampled_from(["dense"] * 4 + ["wide"]).flatmap(lambda kind: {
            "dense": st.integers(0, 96).map(lambda k: BASE + 300 * k),
            "wide": st.integers(NOW - 2 * DAY, NOW)}[kind]),
        st.integers(0, 4 * 3600)), min_size=1, max_size=8))
    replay = draw(st.integers(0, len(arrival)))  # a crash: the last messages processed again
    return arrival, stops, replay


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
@BUILDERS
@pytest.mark.parametrize("answer", [answer_stop_reference, answer_stop],
                         ids=["numpy", "compiled"])  # (test_native_matching.py: it is built)
def test_builder_index_and_overlap_equal_the_reference(builder_type, answer, scenario) -> None:
    arrival, stops, replay = scenario
    rules = MatchRules(retention_s=21 * DAY)
    builder = builder_type(dwell, rules.retention_s)
    index = VisitIndex()
    replayed = arrival + arrival[replay:]
    for card, event_id, venue, direction, t in replayed:
        index.apply(builder.apply(card, [Scan(t, event_id, venue, direction)], NOW))

    expected_visits = reference_visits(arrival, dwell, NOW, rules.retention_s)
    for card, venue, frm, length in stops:
        to = frm + length
        got = answer(index, rules, venue, frm, to, card)
        want = reference_stop(expected_visits, card, venue, frm, to)
        assert got.verified == want["verified"]
        assert got.gap == want["gap"]
        contacts = [(index.card_names[c], int(o), int(o) >= rules.close_contact_s)
                    for c, o in zip(got.contact_cards, got.contact_overlaps, strict=True)]
        assert contacts == \
            [(c["card_id"], c["overlap_s"], c["close_contact"]) for c in want["contacts"]]


@settings(max_examples=300, deadline=None)
@given(st.lists(scan_st, min_size=1, max_size=40), st.integers(0, 2**32 - 1))
@BUILDERS
def test_buckets_hold_exactly_the_reference_visits_whatever_the_arrival_order(builder_type, scans,
                                                                              seed) -> None:
    arrival = list(scans)
    random.Random(seed).shuffle(arrival)
    builder = builder_type(dwell, 21 * DAY)
    buckets: dict[tuple[str, int, str], tuple] = {}
    for card, event_id, venue, direction, t in arrival:
        for u in builder.apply(card, [Scan(t, event_id, venue, direction)], NOW):
            buckets[(u.venue, u.day, u.card)] = u.visits
    got = sorted((card, venue, s, e) for (venue, _, card), vs in buckets.items() for s, e in vs)
    ref = reference_visits(scans, dwell, NOW, 21 * DAY)
    want = sorted((card, v, s, e) for card, vs in ref.items() for v, s, e in vs)
    assert got == want
