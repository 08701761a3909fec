"""Clusters (ổ dịch): the incremental book against a brute-force reference, and facts; the
API's desk publishing them on the in-memory broker."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet import topics
from truyvet.api.tracing.clusters import ClusterDesk
from truyvet.codec import alert as alert_codec
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.kafka.memory import MemoryBroker
from truyvet.settings import Settings

from tests.reference import reference_clusters
from truyvet.codec.itinerary import Itinerary, Stop
from truyvet.codec.timefmt import parse_ms
from truyvet.codec import cluster as cluster_codec
from truyvet.domain.clusters import ClusterBook, Window, clusters_at, parse_window

M = 60_000
H = 60 * M
DAY = 24 * H
# 2021-12-06 00:00 in Vietnam (UTC+7) is 2021-12-05T17:00Z
MIDNIGHT = parse_ms("2021-12-06T00:00:00+07:00")


def _it(case_id: str, stops: list[tuple[str, int, int]], classification: str = "F0") -> Itinerary:
    return Itinerary(case_id, classification, None,
                     tuple(Stop(v, a, b) for v, a, b in stops), submitted_at_ms=0)


def _seen(book: ClusterBook) -> set[tuple[str, frozenset[tuple[str, int]]]]:
    return {(c.venue_id, frozenset((m.case_id, m.stop) for m in c.members))
            for c in book.clusters()}


def test_two_cases_the_same_local_day_form_one_cluster_named_by_venue_and_date() -> None:
    book = ClusterBook(parse_window("day"))
    assert not book.put(_it("A", [("cafe", MIDNIGHT + 8 * H, MIDNIGHT + 9 * H)]))
    changes = book.put(_it("B", [("cafe", MIDNIGHT + 20 * H, MIDNIGHT + 21 * H),
                                 ("bar", MIDNIGHT + 22 * H, MIDNIGHT + 23 * H)]))
    (c,) = changes.put
    assert c.cluster_id == "cafe@2021-12-06" and c.cases == ("A", "B")
    assert (c.from_ms, c.to_ms) == (MIDNIGHT + 8 * H, MIDNIGHT + 21 * H)
    assert changes.removed == []
    # the same stop on the next local day (07:00 Vietnam is still 00:00Z) meets neither
    assert not book.put(_it("C", [("cafe", MIDNIGHT + DAY + 7 * H, MIDNIGHT + DAY + 8 * H)]))
    # a stop across midnight is on both days: it joins the two into one cluster
    changes = book.put(_it("D", [("cafe", MIDNIGHT + 23 * H, MIDNIGHT + DAY + 1 * H)]))
    assert [c.cases for c in changes.put] == [("A", "B", "D", "C")]
    # ending exactly at midnight is not on the next day
    other = ClusterBook(parse_window("day"))
    other.put(_it("E", [("bar", MIDNIGHT + 22 * H, MIDNIGHT + DAY)]))
    assert not other.put(_it("F", [("bar", MIDNIGHT + DAY, MIDNIGHT + DAY + H)]))
    assert clusters_at("bar", [], Window(True)) == []


def test_an_f1_itinerary_forms_no_cluster_and_a_reclassified_case_leaves_it() -> None:
    book = ClusterBook(parse_window("day"))
    book.put(_it("A", [("cafe", MIDNIGHT + 8 * H, MIDNIGHT + 9 * H)]))
    assert not book.put(_it("F1-x", [("cafe", MIDNIGHT + 8 * H, MIDNIGHT + 9 * H)], "F1"))
    assert book.put(_it("B", [("cafe", MIDNIGHT + 10 * H, MIDNIGHT + 11 * H)])).put
    changes = book.put(_it("B", [("cafe", MIDNIGHT + 10 * H, MIDNIGHT + 11 * H)], "F1"))
    assert changes.removed == ["cafe@2021-12-06"] and len(book) == 0


def test_replacing_and_removing_a_case_updates_and_dissolves_its_clusters() -> None:
    book = ClusterBook(parse_window("2h"))
    book.put(_it("A", [("cafe", MIDNIGHT + 8 * H, MIDNIGHT + 9 * H)]))
    book.put(_it("B", [("cafe", MIDNIGHT + 11 * H, MIDNIGHT + 12 * H)]))  # 2 h after: meets
    (c,) = book.clusters()
    assert c.cluster_id == "cafe@2021-12-06T08:00"
    # B's new version moves the stop 2 h 1 min after A's end: no longer meets
    changes = book.put(_it("B", [("cafe", MIDNIGHT + 11 * H + M, MIDNIGHT + 12 * H)]))
    assert changes.removed == ["cafe@2021-12-06T08:00"] and not changes.put
    book.put(_it("C", [("cafe", MIDNIGHT + 7 * H, MIDNIGHT + 8 * H)]))  # earlier: renamed
    (c,) = book.clusters()
    assert c.cluster_id == "cafe@2021-12-06T07:00" and c.cases == ("C", "A")
    assert book.of_case("A") == [c] and book.of_case("B") == []
    changes = book.remove("C")
    assert changes.removed == ["cafe@2021-12-06T07:00"] and len(book) == 0


def test_one_case_alone_twice_at_a_venue_is_no_cluster() -> None:
    book = ClusterBook(parse_window("day"))
    assert not book.put(_it("A", [("cafe", MIDNIGHT + 8 * H, MIDNIGHT + 9 * H),
                                  ("cafe", MIDNIGHT + 10 * H, MIDNIGHT + 11 * H)]))


@pytest.mark.parametrize("spec,window", [("day", Window(True)), ("0", Window(False, 0)),
                                         ("90m", Window(False, 5400)), ("2h", Window(False, 7200)),
                                         ("45", Window(False, 2700))])
def test_windows_are_read_as_said(spec: str, window: Window) -> None:
    assert parse_window(spec) == window
    assert parse_window(window.text()) == window


@pytest.mark.parametrize("spec", ["", "tomorrow", "-1h", "2d", "1.5h"])
def test_a_window_that_means_nothing_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="cluster window"):
        parse_window(spec)


def _random_case(rng: random.Random, stops: int, days: int, venues: int, f0: float,
                 ) -> tuple[str, list[tuple[str, int, int]]]:
    """A case's classification and 1 to ``stops`` stops of 5 min to 5 h, over ``days`` days."""
    out = []
    for _ in range(rng.randint(1, stops)):
        start = MIDNIGHT + rng.randrange(days * DAY // M) * M
        out.append((f"V{rng.randrange(venues)}", start, start + rng.randint(5, 300) * M))
    return ("F0" if rng.random() < f0 else "F1"), out


@pytest.mark.parametrize("window", ["day", 0, 3600])
def test_the_book_equals_the_brute_force_reference_through_puts_and_removals(
        window: str | int) -> None:
    rng = random.Random(11731)
    book = ClusterBook(parse_window("day" if window == "day" else f"{int(window) // 60}m"))
    cases: dict[str, tuple[str, list[tuple[str, int, int]]]] = {}
    for step in range(400):
        case_id = f"C{rng.randrange(40)}"
        if case_id in cases and rng.random() < 0.2:
            del cases[case_id]
            book.remove(case_id)
        else:
            cls, stops = cases[case_id] = _random_case(rng, stops=4, days=4, venues=6, f0=0.8)
            book.put(_it(case_id, stops, cls))
        if step % 20 == 0 or step == 399:
            expected = reference_clusters(
                [(cid, cls, stops) for cid, (cls, stops) in cases.items()], str(window))
            assert _seen(book) == expected, step
    assert len(book) > 5  # the comparison was about clusters, not empty sets


# --- the API's desk: who publishes what, on the in-memory broker ---------------------------
def _desk(broker: MemoryBroker, s: Settings, owned: set[int],
          made: list[ClusterDesk]) -> ClusterDesk:
    backend = broker.backend()
    producer = AsyncProducer(s, "test", backend, 10.0)
    desk = ClusterDesk(s, producer, lambda: 1_639_000_000.0, lambda: owned, 3,
                       lambda apply: apply, backend)
    made.append(desk)  # stopped by the test, passed or failed
    desk.follower.start()
    assert desk.follower.wait_caught_up(10)
    return desk


def test_the_owner_makes_the_topic_say_what_its_book_says_and_sends_nothing_twice() -> None:
    s = Settings.from_env(env={}, topic_prefix="cl", checkin_partitions=3)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    rng = random.Random(7)
    cases = [_it(f"C{i}", [(f"V{rng.randrange(4)}", MIDNIGHT + (start := rng.randrange(40) * H),
                            MIDNIGHT + start + H)]) for i in range(30)]

    def latest() -> dict[str, frozenset[tuple[str, int]]]:
        out: dict[str, frozenset[tuple[str, int]]] = {}
        for r in broker.records(topics.clusters(s)):
            if r.value is None:
                out.pop(r.key.decode(), None)
            else:
                c = cluster_codec.decode(r.value)
                out[c.cluster_id] = frozenset((m.case_id, m.stop) for m in c.members)
        return out

    def alerts() -> list[str]:
        return [alert_codec.decode(r.value).alert_id for r in broker.records(topics.alerts(s))]

    async def run() -> None:
        owned: set[int] = set()
        first = _desk(broker, s, owned, made)
        for it in cases:  # not the owner yet: nothing published
            first.put(it)
        await asyncio.sleep(0)
        assert broker.records(topics.clusters(s)) == []
        owned |= {0, 1, 2}
        await first.take({0, 1, 2})
        book = {c.cluster_id: frozenset((m.case_id, m.stop) for m in c.members)
                for c in first.book.clusters()}
        assert latest() == book and len(book) >= 3
        assert sorted(alerts()) == sorted(  # one per cluster, at its size
            f"{c.venue_id}/cluster/{c.cluster_id.rpartition('@')[2]}/{len(c.cases)}"
            for c in first.book.clusters())
        sent, raised = len(broker.records(topics.clusters(s))), len(alerts())
        first.follower.stop()

        # the next owner's book lost one case meanwhile (its version moved it): what it takes
        # over it publishes (a tombstone, or a smaller cluster); the rest is not sent again
        gone = next(c for c in first.book.clusters()).cases[0]
        second = _desk(broker, s, {0, 1, 2}, made)
        for it in cases:
            if it.case_id != gone:
                second.book.put(it)
        await second.take({0, 1, 2})
        now = {c.cluster_id: frozenset((m.case_id, m.stop) for m in c.members)
               for c in second.book.clusters()}
        assert latest() == now != book
        changed = {k for k in book.keys() | now.keys() if book.get(k) != now.get(k)}
        assert len(broker.records(topics.clusters(s))) == sent + len(changed)
        assert len(alerts()) == raised  # none formed or grew

    made: list[ClusterDesk] = []
    try:
        asyncio.run(run())
    finally:
        for desk in made:
            desk.follower.stop()
            desk.producer.close()


@pytest.mark.parametrize("window", ["day", 3600])
def test_many_cases_at_once_leave_what_one_at_a_time_leaves_and_say_every_change(
        window: str | int) -> None:
    rng = random.Random(1731)
    spec = "day" if window == "day" else f"{int(window) // 60}m"
    batched, single = ClusterBook(parse_window(spec)), ClusterBook(parse_window(spec))
    cases: dict[str, tuple[str, list[tuple[str, int, int]]]] = {}
    for _ in range(60):
        pending: dict[str, object] = {}
        for _ in range(rng.randint(1, 12)):
            case_id = f"C{rng.randrange(30)}"
            if case_id in cases and rng.random() < 0.25:
                del cases[case_id]
                pending[case_id] = None
                single.remove(case_id)
                continue
            cls, stops = cases[case_id] = _random_case(rng, stops=3, days=2, venues=4, f0=0.85)
            pending[case_id] = it = _it(case_id, stops, cls)
            single.put(it)
        before = {c.cluster_id: c for c in batched.clusters()}
        changes = batched.update(pending)  # type: ignore[arg-type]
        after = {c.cluster_id: c for c in batched.clusters()}
        assert _seen(batched) == _seen(single) == reference_clusters(
            [(cid, cls, stops) for cid, (cls, stops) in cases.items()], str(window))
        said = {c.cluster_id for c in changes.put} | set(changes.removed)
        assert said == {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert len(batched) > 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["BN-1", "BN-2", "ca\\u0301-\"x\"", "Đ"]),
                          st.integers(0, 49), st.integers(1_600_000_000_000, 1_700_000_000_000),
                          st.integers(0, 10**8)), min_size=2, max_size=30),
       st.integers(0, 2))
def test_a_cluster_is_written_as_its_mapping_byte_for_byte(members, again) -> None:
    import orjson

    record = cluster_codec.ClusterRecord(
        "cafe@2021-12-06", "cafe", "day", 1, 2, 2,
        tuple(cluster_codec.ClusterMember(c, s, f, f + d) for c, s, f, d in members), 3)
    for _ in range(again + 1):  # members' JSON made the first time, kept after
        assert cluster_codec.encode(record) == orjson.dumps(cluster_codec.to_mapping(record))


def test_cases_put_while_owning_settle_a_few_venues_at_a_time_into_what_the_topic_says(
        monkeypatch) -> None:
    from truyvet.api.tracing import clusters as desk_module

    monkeypatch.setattr(desk_module, "SETTLE_S", 0.01)
    monkeypatch.setattr(desk_module, "VENUES_A_STEP", 1)  # a turn of the loop per venue
    s = Settings.from_env(env={}, topic_prefix="cg", checkin_partitions=3)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    rng = random.Random(11)
    made: list[ClusterDesk] = []

    def latest() -> dict[str, frozenset[tuple[str, int]]]:
        out: dict[str, frozenset[tuple[str, int]]] = {}
        for r in broker.records(topics.clusters(s)):
            if r.value is None:
                out.pop(r.key.decode(), None)
            else:
                c = cluster_codec.decode(r.value)
                out[c.cluster_id] = frozenset((m.case_id, m.stop) for m in c.members)
        return out

    async def run() -> None:
        desk = _desk(broker, s, {0, 1, 2}, made)
        cases = {}
        for round_ in range(4):
            for i in range(25):  # new cases, and new versions of earlier ones
                case_id = f"C{rng.randrange(40)}"
                cls, stops = _random_case(rng, stops=3, days=2, venues=6, f0=0.9)
                cases[case_id] = _it(case_id, stops, cls)
                desk.put(cases[case_id])
            for _ in range(500):  # settled gradually, published as it settles
                await asyncio.sleep(0.01)
                if not desk._pending and not desk._unsettled and not desk._sending:
                    break
            want = ClusterBook(desk.window)
            want.update(dict(cases))
            assert {c.cluster_id: c for c in desk._book.clusters()} == \
                {c.cluster_id: c for c in want.clusters()}, round_
            assert latest() == {c.cluster_id: frozenset((m.case_id, m.stop) for m in c.members)
                                for c in want.clusters()}, round_
        assert len(want) >= 3

    try:
        asyncio.run(run())
    finally:
        for desk in made:
            desk.follower.stop()
            desk.producer.close()
