"""The index forgets exactly the visits that ended before the retention's cutoff, row by row
inside the cutoff's day and whole days before it; the rest stays queryable unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.rules import DAY_S

BASE = 20_000 * DAY_S
visit = st.tuples(st.sampled_from(["V1", "V2"]), st.sampled_from(["a", "b", "c", "d"]),
                  st.integers(0, 3 * DAY_S), st.integers(0, 6 * 3600))


@settings(max_examples=200, deadline=None)
@given(st.lists(visit, max_size=40), st.integers(0, 4 * DAY_S))
def test_expire_forgets_exactly_what_ended_before_the_cutoff(visits, cut) -> None:
    rows: dict[tuple[str, int, str], list[tuple[int, int]]] = {}
    for venue, card, start, length in visits:
        s = BASE + start
        rows.setdefault((venue, s // DAY_S, card), []).append((s, s + length))
    index = VisitIndex()
    index.apply((v, d, c, sorted(vs)) for (v, d, c), vs in rows.items())
    cutoff = BASE + cut

    dropped = index.expire(cutoff)

    kept = sorted((v, c, s, e) for (v, _, c), vs in rows.items() for s, e in vs if e >= cutoff)
    assert dropped == sum(len(vs) for vs in rows.values()) - len(kept)
    name = {index.intern(c): c for c in "abcd"}
    got = []
    for venue in ("V1", "V2"):
        w = index.window(venue, 0, 2**32 - 1)
        got += [(venue, name[int(c)], int(s), int(e))
                for c, s, e in zip(w.cards, w.starts, w.ends, strict=True)]
    assert sorted(got) == kept


CARDS = [f"TKS-46-{i:07d}" for i in range(6)]  # distinctive: searched for in the raw tables


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["V1", "V2"]), st.integers(0, 5),
                          st.integers(0, 3 * DAY_S), st.integers(0, 6 * 3600)), max_size=40),
       st.integers(0, 4 * DAY_S), st.sets(st.integers(0, 5), max_size=2), st.integers(0, 5))
def test_cards_past_the_retention_are_forgotten_and_the_rest_answer_as_before(
        visits, cut, held, newcomer) -> None:
    """After expiry, the ids of cards no live visit and no standing result (``held``)
    references are gone from memory, bytes included; every other card still answers with
    its own id, and a card seen later reuses a number without taking anyone's place."""
    rows: dict[tuple[str, int, str], list[tuple[int, int]]] = {}
    for venue, c, start, length in visits:
        s = BASE + start
        rows.setdefault((venue, s // DAY_S, CARDS[c]), []).append((s, s + length))
    index = VisitIndex()
    for card in CARDS:  # every card known, some with no visit at all
        index.intern(card)
    index.apply((v, d, c, sorted(vs)) for (v, d, c), vs in rows.items())
    cutoff = BASE + cut
    index.expire(cutoff)
    live = {c for (_, _, c), vs in rows.items() if any(e >= cutoff for _, e in vs)}
    kept = live | {CARDS[i] for i in held}
    before = {v: _answer(index, v) for v in ("V1", "V2")}

    forgotten = index.forget_cards([[index.number(CARDS[i]) for i in held]])

    assert forgotten == len(CARDS) - len(kept)
    assert set(index.cards.number) == kept and len(index.cards) == len(kept)
    raw = bytes(index.cards._sort_buf) + bytes(index.cards._json_buf)
    for card in CARDS:
        assert (card.encode() in raw) == (card in kept), card
    assert {v: _answer(index, v) for v in ("V1", "V2")} == before
    # a card seen again (or for the first time) gets a number of its own
    again = CARDS[newcomer]
    index.apply([("V3", BASE // DAY_S, again, [(BASE, BASE + 60)])])
    assert _answer(index, "V3") == [(again, BASE, BASE + 60)]
    assert {v: _answer(index, v) for v in ("V1", "V2")} == before


def _answer(index: VisitIndex, venue: str) -> list[tuple[str, int, int]]:
    """The venue's visits with card ids, as an answer shows them (the JSON rows)."""
    import orjson
    import numpy as np

    w = index.window(venue, 0, 2**32 - 1)
    contacts = orjson.loads(index.cards.contacts_json(w.cards, np.zeros(len(w.cards), np.int64),
                                                      1))
    return sorted((c["card_id"], int(s), int(e))
                  for c, s, e in zip(contacts, w.starts, w.ends, strict=True))
