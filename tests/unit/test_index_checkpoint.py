"""The API's index checkpoint: written and loaded, it holds exactly the visits the index held
(compared with a plain model of the topic: the latest content of every bucket); any changed or
missing byte is refused; a checkpoint that cannot stand for the topic now is not used; an API
view started from one and reading the records after it equals one that read the whole topic."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet import checkpoint_file, topics
from truyvet.api.tracing import checkpoint
from truyvet.api.tracing.index_view import IndexView
from truyvet.codec import visits as visits_codec
from truyvet.domain.matching import index_columns
from truyvet.domain.matching.cards import CardTable
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.rules import DAY_S
from truyvet.kafka.memory import MemoryBroker
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.record import Record
from truyvet.settings import Settings

BASE_DAY = 20_400
BASE = BASE_DAY * DAY_S
VENUES = ["V1", "V2", "Quán cà phê Tam Giang"]
CARDS = ["a", "b", "TKS-46-0000001", "thẻ-đỏ-" + "x" * 30, "c"]  # one longer than the tables' width

update = st.tuples(st.sampled_from(VENUES), st.integers(0, 3), st.sampled_from(CARDS),
                   st.lists(st.tuples(st.integers(0, DAY_S), st.integers(0, 8 * 3600)),
                            max_size=3))


def _model(updates) -> dict[tuple[str, int, str], list[tuple[int, int]]]:  # type: ignore[no-untyped-def]
    """What the topic says: the latest content of every (venue, day, card) bucket."""
    rows: dict[tuple[str, int, str], list[tuple[int, int]]] = {}
    for venue, day, card, visits in updates:
        if visits:
            rows[(venue, day, card)] = list(visits)
        else:
            rows.pop((venue, day, card), None)
    return rows


def _as_updates(raw):  # type: ignore[no-untyped-def]
    out = []
    for venue, d, card, spans in raw:
        day = BASE_DAY + d
        out.append((venue, day, card, sorted((day * DAY_S + s, day * DAY_S + s + n)
                                             for s, n in spans)))
    return out


def _content(index: VisitIndex) -> set[tuple[str, str, int, int]]:
    """Every visit the index answers with, by card id (what a tracer sees)."""
    got = set()
    for venue in VENUES:
        w = index.window(venue, 0, 2**32 - 1)
        contacts = orjson.loads(index.cards.contacts_json(
            w.cards, np.zeros(len(w.cards), np.int64), 1)) if len(w.cards) else []
        got |= {(venue, c["card_id"], int(s), int(e))
                for c, s, e in zip(contacts, w.starts, w.ends, strict=True)}
    return got


def _expected(rows, cutoff: int = 0) -> set[tuple[str, str, int, int]]:  # type: ignore[no-untyped-def]
    return {(v, c, s, e) for (v, _, c), vs in rows.items() for s, e in vs if e >= cutoff}


def _round_trip(index: VisitIndex, tmp: Path) -> VisitIndex:
    cp = checkpoint.Checkpoint("t.visits.v1", {0: 5}, 1, 86400,
                               index_columns.compacted(index_columns.take(index)))
    where = tmp / "index"
    checkpoint.save(where, cp)
    loaded = checkpoint.load(where)
    assert loaded.positions == {0: 5} and loaded.retention_s == 86400
    return index_columns.build(loaded.columns)


@settings(max_examples=150, deadline=None)
@given(st.lists(update, max_size=50), st.integers(0, 5 * DAY_S), st.booleans())
def test_a_checkpoint_holds_exactly_the_visits_of_the_index(tmp_path_factory, raw, cut, forget,
                                                            ) -> None:
    updates = _as_updates(raw)
    index = VisitIndex()
    index.apply(updates)
    cutoff = BASE + cut
    index.expire(cutoff)
    if forget:
        index.forget_cards()
    again = _round_trip(index, tmp_path_factory.mktemp("cp"))

    assert _content(again) == _expected(_model(updates), cutoff) == _content(index)
    assert set(again.buckets) == set(index.buckets)
    for venue, longest in index.longest.items():  # a window reaches back as far as before
        assert again.longest.get(venue, 0) == longest
    # only cards some visit references are written (an expired card is not kept on disk)
    assert set(again.cards.number) == {c for _, c, _, _ in _content(index)}
    # the restored index goes on taking updates like any other
    more = _as_updates([("V1", 1, "a", [(60, 600)]), ("V2", 0, "b", [])])
    again.apply(more)
    index.apply(more)
    assert _content(again) == _content(index)


@given(st.lists(st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
                        min_size=1, max_size=40), unique=True, max_size=30))
def test_a_card_table_built_in_bulk_equals_one_interned_card_by_card(names) -> None:
    one_by_one = CardTable()
    for n in names:
        one_by_one.intern(n)
    bulk = CardTable.of(names)
    numbers = np.arange(len(names))
    overlaps = np.arange(len(names), dtype=np.int64) * 700
    assert bulk.number == one_by_one.number
    assert list(bulk.sort_keys(numbers)) == list(one_by_one.sort_keys(numbers))
    assert bulk.contacts_json(numbers, overlaps, 900) == one_by_one.contacts_json(numbers, overlaps, 900)
    assert [c["card_id"] for c in orjson.loads(bulk.contacts_json(numbers, overlaps, 900))] == names
    bulk.intern("newcomer-after-the-restart")  # and it goes on interning
    assert bulk.names[-1] == "newcomer-after-the-restart"


def _small_checkpoint(tmp: Path) -> Path:
    index = VisitIndex()
    index.apply(_as_updates([("V1", 0, "a", [(0, 60)]), ("V2", 1, "thẻ-đỏ", [(5, 50), (100, 900)])]))
    cp = checkpoint.Checkpoint("t.visits.v1", {0: 2, 1: 7}, 1000, 86400,
                               index_columns.compacted(index_columns.take(index)))
    where = tmp / "index"
    checkpoint.save(where, cp)
    return where


def test_every_changed_byte_and_every_truncation_is_refused(tmp_path: Path) -> None:
    where = _small_checkpoint(tmp_path)
    data = where.read_bytes()
    assert os.stat(where).st_mode & 0o777 == 0o600  # it holds card ids
    broken = tmp_path / "broken"
    for i in range(len(data)):  # every byte, flipped: magic, header, arrays, digest
        broken.write_bytes(data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1:])
        with pytest.raises(checkpoint.Unreadable):
            checkpoint.load(broken)
    for n in range(0, len(data), 7):
        broken.write_bytes(data[:n])
        with pytest.raises(checkpoint.Unreadable):
            checkpoint.load(broken)
    broken.write_bytes(data + b"\0")
    with pytest.raises(checkpoint.Unreadable):
        checkpoint.load(broken)
    checkpoint.load(where)  # the original still reads


def test_a_file_with_a_valid_digest_but_foreign_arrays_is_refused(tmp_path: Path) -> None:
    """The digest says the bytes are as written, not that the writer was this one: object
    arrays and inconsistent columns are refused too."""
    where = tmp_path / "x"
    checkpoint_file.write(where, {"format": checkpoint.FORMAT}, {"cards": np.arange(3, dtype=np.uint32)})
    with pytest.raises(checkpoint.Unreadable, match="content unreadable"):
        checkpoint.load(where)
    with pytest.raises(TypeError):
        checkpoint_file.write(where, {}, {"o": np.array([object()])})
    c = index_columns.take(VisitIndex())
    bad = index_columns.IndexColumns(["V1"], np.zeros(1, np.int64), np.array([3], np.int32),
                                     np.array([BASE_DAY], np.int32), np.array([1]),
                                     np.zeros(1, np.uint32), np.zeros(1, np.uint32),
                                     np.zeros(1, np.uint32), ["a"])
    with pytest.raises(ValueError, match="names no venue"):
        index_columns.build(bad)
    assert index_columns.build(c).visits() == 0


def test_what_makes_a_checkpoint_unusable() -> None:
    cp = checkpoint.Checkpoint("t.visits.v1", {0: 10, 1: 20}, 1_000_000, 86400,
                               index_columns.take(VisitIndex()))
    day = 86_400_000
    assert checkpoint.why_unusable(cp, "t.visits.v1", 86400, day // 2, 1_000_000 + 1000) is None
    assert "topic" in checkpoint.why_unusable(cp, "u.visits.v1", 86400, day // 2, 1_000_000)
    assert "old" in checkpoint.why_unusable(cp, "t.visits.v1", 86400, day // 2, 1_000_000 + day)
    assert "future" in checkpoint.why_unusable(cp, "t.visits.v1", 86400, day, 0)
    assert "retention" in checkpoint.why_unusable(cp, "t.visits.v1", 2 * 86400, day, 1_000_000)
    fit = checkpoint.why_offsets_do_not_fit
    assert fit({0: 10, 1: 20}, {0: (0, 10), 1: (5, 90)}) is None
    assert "partitions" in fit({0: 10, 1: 20}, {0: (0, 10), 1: (0, 20), 2: (0, 0)})
    assert "deleted" in fit({0: 10, 1: 20}, {0: (11, 30), 1: (0, 20)})
    assert "recreated" in fit({0: 10, 1: 20}, {0: (0, 3), 1: (0, 20)})


def test_the_tombstone_window_comes_from_the_topic_catalogue() -> None:
    s = Settings.from_env(env={})
    spec = next(t for t in topics.catalogue(s) if t.name == topics.visits(s))
    kept = int(spec.config.get("delete.retention.ms", 86_400_000))  # the broker's default
    assert checkpoint.max_age_ms(s) == kept // 2


# --- an API view on the in-memory broker -------------------------------------------------------

def _publish(broker: MemoryBroker, s: Settings, updates) -> None:  # type: ignore[no-untyped-def]
    topic = topics.visits(s)
    producer = broker.backend().producer("test")
    n = len(broker.logs[topic])
    for venue, day, card, visits in updates:
        b = visits_codec.Bucket(venue, day, card, visits)
        producer.produce(topic, visits_codec.key(b), visits_codec.encode(b),
                         partition=partition_of(venue.encode(), n))


def _view(broker: MemoryBroker, s: Settings) -> IndexView:
    view = IndexView(s, s.rules(), broker.backend(), clock=lambda: (BASE + 4 * DAY_S))
    view.start()
    assert view.follower.wait_caught_up(10)
    return view


def test_a_view_restarted_from_its_checkpoint_equals_one_that_read_the_whole_topic(
        tmp_path: Path) -> None:
    s = Settings.from_env(env={}, topic_prefix="cp", data_dir=tmp_path, checkin_partitions=3)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    first = _as_updates([(v, d, c, [(d * 3600 + i * 60, 1800)]) for i, (v, d, c) in enumerate(
        (v, d, c) for v in VENUES for d in range(3) for c in CARDS)])
    _publish(broker, s, first)
    view = _view(broker, s)
    assert view.restored["reason"] == "no checkpoint yet"
    assert view.checkpoint() and view.last_checkpoint["visits"] == len(first)
    view.stop()
    # after the checkpoint: replaced buckets, deleted ones (tombstones), a new card
    later = _as_updates([("V1", 0, "a", [(7200, 9000)]), ("V2", 1, "b", []),
                         (VENUES[2], 2, "newcomer", [(60, 120)]), ("V1", 2, "c", [])])
    _publish(broker, s, later)
    expected = _expected(_model(first + later))

    restarted = _view(broker, s)
    assert restarted.restored["from"] == "checkpoint"
    assert restarted.restored["records_after"] == len(later)
    assert _content(restarted.index) == expected
    restarted.stop()
    whole = IndexView(s.replace(api_checkpoint_s=0), s.rules(), broker.backend())
    whole.start()
    assert whole.follower.wait_caught_up(10)
    assert whole.restored["from"] == "topic" and _content(whole.index) == expected
    whole.stop()

    where = checkpoint.path(s)
    data = bytearray(where.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit flipped on disk
    where.write_bytes(bytes(data))
    rebuilt = _view(broker, s)
    assert rebuilt.restored["from"] == "topic" and "digest" in rebuilt.restored["reason"]
    assert _content(rebuilt.index) == expected
    rebuilt.stop()


def test_no_checkpoint_is_written_while_the_index_lacks_records(tmp_path: Path) -> None:
    """A view whose handler failed on a record (``degraded``) lacks it until a restart; a
    checkpoint written then would carry the lack past the restart."""
    s = Settings.from_env(env={}, topic_prefix="cp", data_dir=tmp_path, checkin_partitions=1)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    _publish(broker, s, _as_updates([("V1", 0, "a", [(0, 60)])]))
    view = _view(broker, s)
    view.follower._skip(Record(topics.visits(s), 0, 0, None, None), RuntimeError("bug"))
    assert view.follower.degraded
    assert view.checkpoint() is None and not checkpoint.path(s).exists()
    view.stop()


def test_a_copy_taken_while_cards_are_forgotten_names_no_wrong_card() -> None:
    """Taken a few buckets at a time, the copy may see a row whose card is then forgotten and
    its number given to another card: that row must not come back under the other card."""
    index = VisitIndex()
    index.apply(_as_updates([("V1", 0, "a", [(0, 60)]), ("V2", 0, "b", [(0, 60)])]))
    calls = []

    @contextmanager
    def hold():  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:  # after the buckets were copied, before the card names
            index.apply(_as_updates([("V1", 0, "a", [])]))  # a's visit deleted...
            assert index.forget_cards() == 1  # ...a forgotten, its number free
            index.apply(_as_updates([("V2", 1, "newcomer", [(0, 60)])]))  # and reused
            assert index.number("newcomer") == 0
        yield

    taken = index_columns.take(index, hold)
    again = index_columns.build(index_columns.compacted(taken))
    assert _content(again) == _content(index)
    assert not any(c == "newcomer" and v == "V1" for v, c, _, _ in _content(again))


def test_the_copy_holds_the_lock_for_a_few_rows_at_a_time(monkeypatch) -> None:
    """Copied a group of rows per hold of the lock, not a group of buckets: a bucket at a busy
    venue holds thousands of rows, and 256 of them in one hold made answers wait 20-28 ms."""
    index = VisitIndex()
    index.apply(_as_updates([(v, d, f"c{v}{d}{k}", [(k * 100, 60)])
                             for v in ("V1", "V2") for d in (0, 1) for k in range(3)]))  # 4 x 3 rows
    monkeypatch.setattr(index_columns, "_GROUP", 4)
    holds: list[int] = []

    @contextmanager
    def hold():  # type: ignore[no-untyped-def]
        holds.append(1)
        yield

    again = index_columns.build(index_columns.compacted(index_columns.take(index, hold)))
    assert _content(again) == _content(index)
    # the keys; then 4 buckets of 3 rows, a hold ending once it has copied 4 rows or more (a
    # bucket is never split): 2 holds of 2 buckets; then the card names
    assert len(holds) == 1 + 2 + 1
