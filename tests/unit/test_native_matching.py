"""The compiled stop answer and contacts' JSON (native/src/matching.rs) equal their references
in numpy, on generated indexes: rows replaced and deleted, visits across midnight (a venue's
longest visit reaching into the previous day's bucket), many equal overlaps (the card id
decides, also between ids with the same first eight bytes), the submitting card among the
visitors or unknown, card ids needing JSON escapes or longer than the tables' first width,
forgotten cards' numbers reused. (Both are also run against the brute-force reference in
test_matching_properties.py.)"""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truyvet.codec import native
from truyvet.domain.matching.cards import CardTable
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.overlap import answer_stop_reference, answer_stops
from truyvet.domain.matching.rules import DAY_S, MatchRules

T0 = 1_800_000_000 - 1_800_000_000 % DAY_S  # a UTC midnight
CARDS = ["ann", "bob", "cid", "Đào", 'q"uote', "back\\slash", "x" * 40, "dan", "eve", "fay",
         "PC-COVID-0002", "PC-COVID-0001"]  # the same first eight bytes: the rest decides
VENUES = ["A", "B"]


@pytest.fixture(autouse=True)
def _built() -> None:
    if native.core is None:
        pytest.fail("the compiled core (truyvet_native) is not installed: run deploy/setup.sh")


visit_st = st.tuples(st.integers(-3 * 3600, 3 * 3600).map(lambda k: T0 + k // 600 * 600),
                     st.integers(0, 5 * 3600).map(lambda k: k // 600 * 600))
update_st = st.tuples(st.sampled_from(VENUES), st.sampled_from(CARDS),
                      st.lists(visit_st, max_size=3))  # no visits: the card's rows deleted


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(update_st, max_size=12), min_size=1, max_size=6),
       st.lists(st.tuples(st.one_of(st.sampled_from(CARDS + ["nobody"]), st.none()),
                          st.sampled_from(VENUES + ["nowhere"]),
                          st.integers(-4 * 3600, 4 * 3600).map(lambda k: T0 + k // 300 * 300),
                          st.integers(0, 4 * 3600)), min_size=1, max_size=6),
       st.integers(0, 3600))
def test_the_compiled_stop_answer_equals_the_reference(batches, stops, tolerance) -> None:
    index = VisitIndex()
    rules = MatchRules(tolerance_s=tolerance)
    for batch in batches:
        updates = []
        for venue, card, visits in batch:
            spans = sorted((s, s + length) for s, length in visits)
            for day in {s // DAY_S for s, _ in spans} or {T0 // DAY_S}:
                updates.append((venue, day, card, [v for v in spans if v[0] // DAY_S == day]))
        index.apply(updates)
        for card, venue, frm, length in stops:
            want = answer_stop_reference(index, rules, venue, frm, frm + length, card)
            got = answer_stops(index, rules, [(venue, frm, frm + length)], card)[0]
            assert (got.verified, got.gap) == (want.verified, want.gap)
            assert got.contact_cards.tolist() == want.contact_cards.tolist()
            assert got.contact_overlaps.tolist() == want.contact_overlaps.tolist()
        # an itinerary's stops answered together, by one thread or several
        card = stops[0][0]
        at = [(venue, frm, frm + length) for _, venue, frm, length in stops]
        want = [answer_stop_reference(index, rules, v, f, t, card) for v, f, t in at]
        for threads in (1, 2, 3):
            together = answer_stops(index, rules, at, card, threads)
            assert [(a.verified, a.gap, a.contact_cards.tolist(), a.contact_overlaps.tolist())
                    for a in together] == \
                [(a.verified, a.gap, a.contact_cards.tolist(), a.contact_overlaps.tolist())
                 for a in want], threads


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30).filter(lambda c: "\x00" not in c), min_size=1,
                max_size=20, unique=True),
       st.data(), st.integers(0, 7200))
def test_the_compiled_contacts_json_is_the_reference_byte_for_byte(names, data, close_s) -> None:
    table = CardTable(capacity=4)  # grown as the names come
    numbers = [table.intern(n) for n in names]
    if len(numbers) > 2:  # a forgotten card's number given to a later card
        table.forget(np.array(numbers[1:], np.int64))
        numbers = numbers[1:] + [table.intern("later-card")]
    picked = data.draw(st.lists(st.sampled_from(numbers), max_size=30))
    overlaps = data.draw(st.lists(st.one_of(st.integers(0, 7 * 86_400), st.just(close_s),
                                            st.integers(7 * 86_400, 10**10 - 1)),
                                  min_size=len(picked), max_size=len(picked)))
    cards = np.array(picked, np.int64)
    spans = np.array(overlaps, np.int64)
    got = table.contacts_json(cards, spans, close_s)
    assert got == table.contacts_json_reference(cards, spans, close_s)
    assert [(c["card_id"], c["overlap_s"], c["close_contact"]) for c in orjson.loads(got)] == \
        [(table.names[c], o, o >= close_s) for c, o in zip(picked, overlaps, strict=True)]


def test_an_overlap_past_ten_digits_is_left_to_the_reference() -> None:
    table = CardTable()
    n = table.intern("ann")
    cards, spans = np.array([n]), np.array([10**10], np.int64)
    assert native.core.contacts_json(table._json_buf, table._json_w, cards.astype(np.uint32),
                                     spans, 60) is None


def test_a_card_number_past_the_table_is_refused_not_read() -> None:
    """The compiled writer reads the rows of the cards named: a number past the table's rows
    must be an error, never a read past its memory."""
    table = CardTable(capacity=4)
    n = table.intern("ann")
    rows = len(table._json_buf) // table._json_w
    for past in (rows, 2**32 - 1):
        with pytest.raises(ValueError, match=f"card {past}: no id"):
            native.core.contacts_json(table._json_buf, table._json_w,
                                      np.array([n, past], np.uint32), np.array([5, 5], np.int64), 60)
