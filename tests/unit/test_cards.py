from __future__ import annotations

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.domain.matching.cards import CardTable

ids = st.text(alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20,
                                     blacklist_characters="\x7f"), min_size=1, max_size=40)


@settings(deadline=None)  # the first call builds the digit table
@given(st.lists(st.tuples(ids, st.integers(0, 9_999_999_999)), max_size=60), st.integers(0, 20_000))
def test_contacts_json_is_the_plain_encoding(contacts, close_s) -> None:
    table = CardTable(capacity=4)  # grows while interning
    numbers = np.array([table.intern(c) for c, _ in contacts], np.int64)
    overlaps = np.array([o for _, o in contacts], np.int64)
    got = orjson.loads(table.contacts_json(numbers, overlaps, close_s))
    assert got == [{"card_id": c, "overlap_s": o, "close_contact": o >= close_s}
                   for c, o in contacts]


@given(st.lists(ids, min_size=1, max_size=50, unique=True))
def test_sort_keys_order_like_python_strings(names) -> None:
    table = CardTable(capacity=2)
    numbers = np.array([table.intern(n) for n in names])
    order = np.argsort(table.sort_keys(numbers), kind="stable")
    assert [names[i] for i in order] == sorted(names)


def test_interning_is_stable() -> None:
    table = CardTable()
    assert table.intern("a") == 0 and table.intern("b") == 1 and table.intern("a") == 0
    assert table.names == ["a", "b"] and len(table) == 2


@settings(deadline=None)
@given(st.lists(st.integers(0, 7 * 86_400), min_size=1, max_size=50))
def test_overlaps_up_to_a_week_use_the_digit_table(overlaps) -> None:
    table = CardTable()
    numbers = np.array([table.intern(f"c{i}") for i in range(len(overlaps))])
    got = orjson.loads(table.contacts_json(numbers, np.array(overlaps), 900))
    assert [c["overlap_s"] for c in got] == overlaps
