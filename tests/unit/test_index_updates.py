"""An update of the visit index in two steps: preparing it changes nothing a reader sees (the
API prepares without the index's lock, and answers meanwhile), and once committed the index
holds the latest visits of every (venue, day, card), read here from the updates plainly. The
API's count of the visits held reads them under the lock."""

from __future__ import annotations

import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.api.tracing.index_view import IndexView
from truyvet.domain.matching.index import VisitIndex
from truyvet.kafka.memory import MemoryBroker
from truyvet.settings import Settings

from tests.unit.builders import live_rows

DAY = 86_400
visits_st = st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 7_200)), max_size=3)
update_st = st.tuples(st.sampled_from(["V1", "V2", "V3"]), st.integers(20_000, 20_002),
                      st.sampled_from([f"C{i}" for i in range(8)]), visits_st)


def _content(index: VisitIndex) -> tuple[list[tuple[str, int, str, int, int]],
                                         list[tuple[str, int]], list[str], dict[str, int]]:
    """What a reader can see: every live row by card id, the buckets (empty ones too), the
    cards held, the longest visits."""
    return live_rows(index), sorted(index.buckets), list(index.card_names), dict(index.longest)


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

    rows, buckets, names, longest = _content(index)
    assert rows == sorted((v, d, c, s, e) for (v, d, c), vs in latest.items() for s, e in vs)
    assert buckets == sorted({(v, d) for v, d, _, _, _ in rows})  # none left empty
    assert set(names) <= {c for (_, _, c) in latest}
    assert {v: n for v, n in longest.items() if n} == {v: n for v, n in longest_ever.items() if n}


def test_the_views_count_of_visits_is_taken_under_its_lock_and_at_most_once_a_second(
        tmp_path: Path) -> None:
    """/healthz and the metrics count the visits held: walking every bucket while the
    follower adds and drops them must hold the index's lock, and polling many times a second
    must not walk them every time (~1 ms of the event loop each at 5 M visits)."""
    s = Settings.from_env(env={}, data_dir=tmp_path)
    view = IndexView(s, s.rules(), MemoryBroker().backend())
    view.index.apply([("V1", 20_000, "C1", [(1, 2), (3, 4)]), ("V2", 20_000, "C2", [(5, 6)])])
    counted: list[int] = []
    with view.lock:
        counting = threading.Thread(target=lambda: counted.append(view.visits()))
        counting.start()
        counting.join(0.2)
        assert counting.is_alive() and not counted  # waits for the lock
    counting.join(10)
    assert counted == [3]
    walks = 0
    walk = view.index.visits

    def counting_walk() -> int:
        nonlocal walks
        walks += 1
        return walk()
    view.index.visits = counting_walk  # type: ignore[method-assign]
    assert [view.visits() for _ in range(100)] == [3] * 100
    assert walks <= 1  # counted again once a second has passed, not at every call
    view.index.apply([("V3", 20_000, "C3", [(7, 8)])])
    assert view.visits(max_age_s=0) == 4  # counted now when asked so (the API's start log)


def test_stops_matched_ahead_are_the_answer_only_while_the_index_is_unchanged(
        tmp_path: Path) -> None:
    """A replica given cases matches the next one in a thread while it compares the one
    before: those stops answer the case only if no visit, expiry or forgotten card came
    between (a card forgotten gives its number to the next card)."""
    from truyvet.codec.itinerary import Itinerary, Stop

    s = Settings.from_env(env={}, data_dir=tmp_path)
    view = IndexView(s, s.rules(), MemoryBroker().backend())
    t0 = 20_000 * DAY
    view.index.apply([("V1", 20_000, "C1", [(t0, t0 + 3_600)])])
    it = Itinerary("c1", "F0", None, (Stop("V1", t0 * 1000, (t0 + 3_600) * 1000),))

    def contacts(stops) -> list[str]:  # type: ignore[no-untyped-def]
        return [view.index.card_names[c] for c in stops[0].cards]

    for change in (lambda: view.index.apply([("V1", 20_000, "C2", [(t0, t0 + 60)])]),
                   lambda: view.index.expire(t0 + 61),
                   lambda: view.index.forget_cards()):
        ahead = view.answer_ahead(it)
        assert view.unchanged_since(ahead) and contacts(ahead.stops) == contacts(view.answer(it))
        change()
        assert not view.unchanged_since(ahead)
    assert contacts(view.answer(it)) == ["C1"]  # C2's visit ended before the cutoff
    ahead = view.answer_ahead(it)
    view.index = VisitIndex()  # rebuilt whole (its first catch-up): another index
    assert not view.unchanged_since(ahead)
