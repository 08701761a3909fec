"""The compiled first catch-up of the API's index (``truyvet_native.IndexLoader``) against the
records' path (``visits_codec.decode_record``, then ``VisitIndex.apply`` one record at a time):
on generated topics of visit buckets -- replaced, deleted, in odd but valid forms, and broken --
the index made from the loader's columns holds the same visits, the same longest visit per
venue, and the same records are refused; and an API view started on a topic holds what one
reading it record by record holds, even when its bulk load fails."""

from __future__ import annotations

import random

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truyvet import topics
from truyvet.api.tracing import index_view
from truyvet.api.tracing.index_view import IndexView
from truyvet.codec import visits as visits_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.native import core
from truyvet.domain.matching import index_columns
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.rules import DAY_S
from truyvet.kafka.memory import MemoryBroker
from truyvet.kafka.record import Record
from truyvet.settings import Settings

from tests.unit.builders import live_rows

pytestmark = pytest.mark.skipif(core is None, reason="the compiled core is not built")

DAY = 20_400
VENUES = ["V1", "V2", "Quán cà phê Tam Giang"]
CARDS = ["a", "b", "TKS-46-0000001", "thẻ-đỏ"]
SEP = visits_codec.SEP


def _key(venue: str, day: object, card: str) -> bytes:
    return f"{venue}{SEP}{day}{SEP}{card}".encode()


spans = st.lists(st.tuples(st.integers(0, 2 * DAY_S), st.integers(0, 8 * 3600)), max_size=3)
names = st.tuples(st.sampled_from(VENUES), st.integers(0, 2), st.sampled_from(CARDS))


@st.composite
def written(draw) -> tuple[bytes | None, bytes | None]:  # type: ignore[no-untyped-def]
    """A record as the visits job writes it (a tombstone when no visits)."""
    venue, d, card = draw(names)
    day = DAY + d
    visits = sorted((day * DAY_S + s, day * DAY_S + s + n) for s, n in draw(spans))
    b = visits_codec.Bucket(venue, day, card, visits)
    return visits_codec.key(b), visits_codec.encode(b)


@st.composite
def odd(draw) -> tuple[bytes | None, bytes | None]:  # type: ignore[no-untyped-def]
    """Records another writer could make: some valid in another form, most refused."""
    venue, d, card = draw(names)
    day = DAY + d
    t = day * DAY_S + 3600
    form = draw(st.sampled_from([
        # valid, not the simple form: the codec reads them
        (_key(venue, f"+{day}", card), orjson.dumps({"visits": [[t, t + 60]]})),
        (_key(venue, f" {day} ", card), b' { "visits" : [ [ %d , %d ] ] , "x": [1, {"y": null}] } ' % (t, t + 9)),
        (_key(venue, day, card), b'{"visits": [[%d, %d]], "visits": [[%d, %d]]}' % (t, t + 1, t, t + 2)),
        (_key(venue, day, card), b'{"visits": []}'),
        (_key(venue, day, card), orjson.dumps({"visits": [[0, 0]]})),
        (_key(venue, day, card), orjson.dumps({"visits": [[t, 2**32 - 1]]})),
        (_key(venue, 2**31 - 1, card), orjson.dumps({"visits": [[t, t]]})),
        # refused
        (None, orjson.dumps({"visits": [[t, t + 60]]})),
        (f"{venue}{SEP}{day}".encode(), None),
        (_key(venue, day, card) + SEP.encode() + b"x", None),
        (b"\xff\xfe" + _key(venue, day, card), None),
        (_key(venue, "x", card), None),
        (_key(venue, -1, card), None),
        (_key(venue, 2**31, card), orjson.dumps({"visits": [[t, t]]})),
        (_key(venue, day, card), b"not json"),
        (_key(venue, day, card), b"null"),
        (_key(venue, day, card), b"[]"),
        (_key(venue, day, card), b'{"visits": "x"}'),
        (_key(venue, day, card), orjson.dumps({"visits": [[t + 5, t]]})),
        (_key(venue, day, card), orjson.dumps({"visits": [[-1, t]]})),
        (_key(venue, day, card), orjson.dumps({"visits": [[float(t), t + 5]]})),
        (_key(venue, day, card), orjson.dumps({"visits": [[t, 2**32]]})),
        (_key(venue, day, card), orjson.dumps({"visits": [[t, t + 1, t + 2]]})),
        (_key(venue, day, card), orjson.dumps({"visits": [[t, True]]})),
        (_key(venue, day, card), orjson.dumps({"seen": [[t, t]]})),
    ]))
    return form


topic = st.lists(st.one_of(written(), written(), odd()), max_size=60)


def _records(pairs, partitions: int = 3) -> list[Record]:  # type: ignore[no-untyped-def]
    return [Record("visits", i % partitions, i // partitions, k, v) for i, (k, v) in enumerate(pairs)]


def _reference(records: list[Record]) -> tuple[VisitIndex, set[tuple[int, int]]]:
    index, refused = VisitIndex(), set()
    for r in records:
        try:
            b = visits_codec.decode_record(r.key, r.value)
        except InvalidEvent:
            refused.add((r.partition, r.offset))
            continue
        index.apply([b])
    return index, refused


def _loaded(records: list[Record], batch: int) -> tuple[VisitIndex, set[tuple[int, int]], dict[int, int]]:
    assert core is not None
    loader = core.IndexLoader(visits_codec.decode_record)
    refused, positions = set(), {}
    for i in range(0, len(records), batch):
        count, moved, bad, errors = loader.feed_records(records[i:i + batch])
        assert count == len(records[i:i + batch]) and errors == []
        positions.update(dict(moved))
        for p, offset, exc in bad:
            assert isinstance(exc, InvalidEvent), exc  # a refusal, never an error
            refused.add((p, offset))
    return index_columns.build(index_columns.from_buffers(*loader.finish())), refused, positions


def _content(index: VisitIndex):  # type: ignore[no-untyped-def]
    return live_rows(index), {v: n for v, n in index.longest.items() if n}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic, st.integers(1, 7))
def test_the_loader_makes_the_index_the_records_path_makes(pairs, batch: int) -> None:
    records = _records(pairs)
    want, want_refused = _reference(records)
    got, refused, positions = _loaded(records, batch)
    assert _content(got) == _content(want)
    assert refused == want_refused
    last = {}
    for r in records:
        last[r.partition] = r.offset + 1
    assert positions == last


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(written(), odd()), min_size=1, max_size=20))
def test_records_read_by_the_compiled_core_are_the_codecs_buckets(pairs) -> None:
    """What the index follower reads once caught up: each record as ``decode_record`` reads
    it (the same bucket, visits as tuples), and the same refusal for the first it refuses."""
    keys, values = [k for k, _ in pairs], [v for _, v in pairs]
    want: list[object] = []
    for k, v in pairs:
        try:
            want.append(visits_codec.decode_record(k, v))
        except InvalidEvent as exc:
            want.append(exc)
            break
    if isinstance(want[-1], InvalidEvent):
        with pytest.raises(InvalidEvent) as raised:
            visits_codec.decode_records(keys, values)
        assert str(raised.value) == str(want[-1])
        return
    got = visits_codec.decode_records(keys, values)
    assert got == want
    assert [type(b.visits) for b in got] == [type(b.visits) for b in want]
    assert all(type(v) is tuple for b in got for v in b.visits)


@settings(max_examples=100, deadline=None)
@given(st.lists(written(), min_size=1, max_size=20))
def test_the_visits_jobs_records_are_all_read_by_the_compiled_core(pairs) -> None:
    assert core is not None
    read = core.read_visit_records([k for k, _ in pairs], [v for _, v in pairs],
                                   visits_codec.Bucket)
    assert read == [visits_codec.decode_record(k, v) for k, v in pairs]  # none left to it


def test_the_loader_reads_odd_forms_and_refuses_broken_ones_as_the_codec_does() -> None:
    t = DAY * DAY_S + 3600
    pairs = [(_key("V1", f"+{DAY}", "a"), orjson.dumps({"visits": [[t, t + 60]]})),
             (_key("V1", DAY, "b"), b"not json"),
             (_key("V1", DAY, "c"), orjson.dumps({"visits": [[t, 2**32]]}))]
    got, refused, _ = _loaded(_records(pairs, 1), 10)
    assert _content(got) == ([("V1", DAY, "a", t, t + 60)], {"V1": 60})  # written by hand
    assert refused == {(0, 1), (0, 2)}


def test_a_loader_finished_on_nothing_makes_an_empty_index() -> None:
    assert core is not None
    index = index_columns.build(index_columns.from_buffers(
        *core.IndexLoader(visits_codec.decode_record).finish()))
    assert index.buckets == {} and index.visits() == 0


# --- an API view on the in-memory broker -------------------------------------------------------

def _topic_of(broker: MemoryBroker, s: Settings, pairs) -> None:  # type: ignore[no-untyped-def]
    producer = broker.backend().producer("test")
    for i, (k, v) in enumerate(pairs):
        producer.produce(topics.visits(s), k, v, partition=i % 3)


def _started(s: Settings, broker: MemoryBroker) -> IndexView:
    view = IndexView(s, s.rules(), broker.backend(), clock=lambda: DAY * DAY_S + 4 * DAY_S)
    view.start()
    assert view.follower.wait_caught_up(10)
    return view


@pytest.fixture
def stack(tmp_path):  # type: ignore[no-untyped-def]
    s = Settings.from_env(env={}, topic_prefix="bulk", data_dir=tmp_path, api_checkpoint_s=0)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    rng = random.Random(7)
    pairs = []
    for i in range(240):
        venue, day, card = rng.choice(VENUES), DAY + rng.randrange(3), rng.choice(CARDS + ["d", "e"])
        t = day * DAY_S + rng.randrange(DAY_S)
        b = visits_codec.Bucket(venue, day, card, [(t, t + rng.randrange(7200))] if i % 9 else [])
        pairs.append((visits_codec.key(b), visits_codec.encode(b)))
        if i % 10 == 0:  # a broken record now and then
            pairs.append((visits_codec.key(b), b'{"visits": [[2, 1]]}'))
    _topic_of(broker, s, pairs)
    return s, broker


def _by_records(s: Settings, broker: MemoryBroker, monkeypatch) -> IndexView:  # type: ignore[no-untyped-def]
    with monkeypatch.context() as m:
        m.setattr(index_view, "core", None)
        return _started(s, broker)


def test_a_view_loaded_in_bulk_equals_one_that_read_record_by_record(stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s, broker = stack
    reference = _by_records(s, broker, monkeypatch)
    finished = []
    real = index_view.FirstLoad.caught_up
    # a count kept from before the bulk index replaced the one being read (/healthz polls)
    monkeypatch.setattr(index_view, "VISITS_COUNTED_S", 3600.0)
    monkeypatch.setattr(index_view.FirstLoad, "caught_up",
                        lambda self: (finished.append(self.view.visits()), real(self))[-1])
    bulk = _started(s, broker)
    try:
        assert len(finished) == 1  # it did go the bulk way
        assert bulk.visits() == len(_content(bulk.index)[0]) > 0  # not the count from before
        assert bulk.follower.records == reference.follower.records
        assert _content(bulk.index)[0] == _content(reference.index)[0]
        assert bulk.follower.skipped == reference.follower.skipped
        assert bulk.follower.skipped["invalid"] > 0 and bulk.follower.skipped["error"] == 0
        # after the catch-up, records go the records' way
        t = DAY * DAY_S + 7200
        later = [(_key("V9", DAY, "z"), orjson.dumps({"visits": [[t, t + 30]]}))]
        _topic_of(broker, s, later)
        bulk.follower.wait_for_end(10)
        reference.follower.wait_for_end(10)
        assert ("V9", DAY, "z", t, t + 30) in _content(bulk.index)[0]
        assert _content(bulk.index)[0] == _content(reference.index)[0]
    finally:
        bulk.stop()
        reference.stop()


def test_a_bulk_load_that_fails_is_read_again_record_by_record(stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s, broker = stack
    reference = _by_records(s, broker, monkeypatch)

    def broken(self) -> None:  # type: ignore[no-untyped-def]
        raise ValueError("a bug in the bulk path")

    monkeypatch.setattr(index_view.FirstLoad, "caught_up", broken)
    view = _started(s, broker)
    try:
        assert view.follower.bulk is None
        assert _content(view.index)[0] == _content(reference.index)[0]
        assert view.follower.skipped == reference.follower.skipped
        assert view.follower.records == reference.follower.records
    finally:
        view.stop()
        reference.stop()
