"""An update of the visit index in two steps: preparing it changes nothing a reader sees (the
API prepares without the index's lock, and answers meanwhile), and once committed the index
holds the latest visits of every (venue, day, card), read here from the updates plainly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.domain.matching.index import VisitIndex

DAY = 86_400
visits_st = st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 7_200)), max_size=3)
update_st = st.tuples(st.sampled_from(["V1", "V2", "V3"]), st.integers(20_000, 20_002),
                      st.sampled_from([f"C{i}" for i in range(8)]), visits_st)


def _content(index: VisitIndex) -> tuple[dict[tuple[str, int], list[tuple[str, int, int]]],
                                         list[str], dict[str, int]]:
    """What a reader can see: each bucket's live rows by card id, and the cards held."""
    names = index.card_names
    buckets = {}
    for key, b in index.buckets.items():
        rows = [(names[int(c)], int(s), int(e))
                for c, s, e in zip(b.cards[:b.size], b.starts[:b.size], b.ends[:b.size],
                                   strict=True) if c != 0xFFFFFFFF]
        buckets[key] = sorted(rows)
    return buckets, list(names), dict(index.longest)


@settings(max_examples=300, deadline=None)
@given(st.lists(update_st, max_size=60), st.lists(st.integers(1, 15), min_size=1, max_size=10))
def test_a_prepared_update_changes_nothing_and_committed_holds_the_latest_visits(
        updates, chunk_sizes) -> None:
    index = VisitIndex()
    latest: dict[tuple[str, int, str], list[tuple[int, int]]] = {}
    longest_ever: dict[str, int] = {}  # the longest visit a venue ever had indexed
    i = k = 0
    while i < len(updates):
        chunk = [(v, d, c, [(d * DAY + s, d * DAY + s + n) for s, n in vs])
                 for v, d, c, vs in updates[i:i + chunk_sizes[k % len(chunk_sizes)]]]
        i += len(chunk)
        k += 1
        before = _content(index)

        changes = index.prepare(chunk)

        assert _content(index) == before
        index.commit(changes)
        in_chunk = {(v, d, c): vs for v, d, c, vs in chunk}  # the last one of a chunk wins
        latest.update(in_chunk)
        for (v, _, _), vs in in_chunk.items():
            for s, e in vs:
                longest_ever[v] = max(longest_ever.get(v, 0), e - s)

    expected: dict[tuple[str, int], list[tuple[str, int, int]]] = {}
    for (v, d, c), vs in latest.items():
        if vs:
            expected.setdefault((v, d), []).extend((c, s, e) for s, e in vs)
    buckets, names, longest = _content(index)
    assert buckets == {key: sorted(rows) for key, rows in expected.items()}
    assert set(names) <= {c for (_, _, c) in latest}
    assert {v: n for v, n in longest.items() if n} == {v: n for v, n in longest_ever.items() if n}
