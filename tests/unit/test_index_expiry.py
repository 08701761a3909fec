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
