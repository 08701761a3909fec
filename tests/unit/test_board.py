"""The board every API replica keeps of every case: versions by offset, revisions by number,
what a reconnecting client gets after its ``Last-Event-ID``."""

from __future__ import annotations

from truyvet.api.tracing.answers import Answer
from truyvet.api.tracing.board import RESUME_MAX, RESUME_WINDOW_MS, Board, Shown
from truyvet.codec.itinerary import Itinerary, Stop

IT = Itinerary("c1", "F0", "card", (Stop("V", 0, 60_000),), submitted_at_ms=1_000,
               opened_by="tracer-1")


def _shown(revision: int, at_ms: int = 0, answers: int = 0, case_id: str = "c1") -> Shown:
    return Shown.of(case_id, revision, b'{"revision":%d}' % revision, 1, 0,
                    Answer(case_id, revision, b"{}", 1, 0), answers, at_ms)


def test_a_version_or_revision_already_held_changes_nothing() -> None:
    b = Board()
    assert b.put_itinerary(IT, 2, 5)
    assert not b.put_itinerary(IT, 2, 5)  # read back from the topic after applying it at once
    assert not b.put_itinerary(Itinerary("c1", "F1", None, ()), 2, 4)  # older
    assert b.itinerary("c1") == IT and list(b.in_partition(2)) == ["c1"]
    assert b.latest("c1") is None  # not answered yet
    assert b.put_revision(_shown(1, answers=5))
    assert not b.put_revision(_shown(1, answers=5))
    assert b.latest("c1").revision == 1  # type: ignore[union-attr]
    assert b.put_itinerary(IT, 2, 9)  # a newer version
    assert b.put_revision(_shown(2, answers=9))
    assert not b.put_revision(_shown(1, answers=9))  # an older revision never replaces
    assert b.latest("c1").revision == 2  # type: ignore[union-attr]


def test_a_client_gets_the_revisions_it_missed_or_the_latest_when_they_are_gone() -> None:
    b = Board()
    b.put_itinerary(IT, 0, 0)
    for rev in range(1, 6):
        b.put_revision(_shown(rev, at_ms=rev * 1000))
    assert [s.revision for s in b.since("c1", 2)] == [3, 4, 5]
    assert b.since("c1", 5) == [] and b.since("c1", 9) == []
    assert [s.revision for s in b.since("c1", 0)] == [1, 2, 3, 4, 5]
    # older than the window: let go, the latest kept; one who missed them gets the latest
    b.put_revision(_shown(6, at_ms=6000 + RESUME_WINDOW_MS))
    assert [s.revision for s in b.since("c1", 6 - 1)] == [6]
    assert [s.revision for s in b.since("c1", 2)] == [6]
    assert b.since("other", 0) == []


def test_at_most_resume_max_revisions_are_kept_per_case() -> None:
    b = Board()
    for rev in range(1, RESUME_MAX + 10):
        b.put_revision(_shown(rev))
    held = b.since("c1", 0)
    assert [s.revision for s in held] == [RESUME_MAX + 9]  # revision 1 is gone: the latest
    assert [s.revision for s in b.since("c1", 9)] == list(range(10, RESUME_MAX + 10))


def test_expired_cases_are_those_submitted_before_the_cutoff() -> None:
    b = Board()
    b.put_itinerary(IT, 0, 0)
    b.put_itinerary(Itinerary("c2", "F0", None, (), submitted_at_ms=5_000), 1, 0)
    assert b.expired(2_000) == ["c1"]
    b.drop("c1")
    assert b.itinerary("c1") is None and len(b) == 1


def test_a_revision_is_held_in_a_fraction_of_its_json_and_given_back_whole() -> None:
    """Every replica holds every standing case's revisions: a result of 14,000 contacts (a
    case at busy venues) is a megabyte of JSON, held in under a third of it."""
    import numpy as np

    from truyvet.domain.matching.index import VisitIndex
    from truyvet.domain.matching.matcher import Result, StopResult, encode_result

    index = VisitIndex()
    rng = np.random.default_rng(7)
    stops = []
    for i in range(10):
        cards = rng.choice(300_000, 1_400, replace=False)
        overlaps = np.sort(rng.integers(1, 7_200, cards.size))[::-1]
        stops.append(StopResult(f"V{i:04d}", 1_800_000_000 + i * 7_200, 1_800_003_600 + i * 7_200,
                                True, False,
                                np.array([index.intern(f"C{c:07d}") for c in cards], np.int64),
                                overlaps.astype(np.int64)))
    it = Itinerary("c1", "F0", "card", tuple(Stop(s.venue_id, s.from_s * 1000, s.to_s * 1000)
                                              for s in stops))
    raw = encode_result(Result(it, 1, 0, tuple(stops)), index, 900)
    shown = Shown.of("c1", 1, raw, 10, 14_000, Answer("c1", 1, b"{}", 10, 14_000), 0, 0)
    assert len(raw) > 900_000
    assert shown.json == raw
    assert len(shown.packed) < len(raw) / 3


def _published(revision: int, case_id: str = "c1", stops: int = 2, at_ms: int = 0,
               raw: bytes | None = None) -> Shown:
    """A revision read from the topic: ``stops`` stops of 3 contacts, one of them close."""
    import orjson

    stop = {"venue_id": "V", "from": "2026-12-01T00:00:00Z", "to": "2026-12-01T01:00:00Z",
            "verified": True, "gap": False,
            "contacts": [{"card_id": f"K{i}", "overlap_s": o, "close_contact": o >= 900}
                         for i, o in enumerate((1_000, 600, 60))]}
    body = {"case_id": case_id, "classification": "F0", "card_id": "card",
            "revision": revision, "computed_at": "2026-12-01T02:00:00Z",
            "stops": [stop] * stops}
    return Shown.published(case_id, revision, orjson.dumps(body) if raw is None else raw, 0,
                           at_ms)


def test_a_revision_read_from_the_topic_is_read_when_first_served() -> None:
    """A replica starting takes every case's revisions; it reads the JSON of those it serves."""
    import orjson

    b = Board()
    b.put_itinerary(IT, 0, 0)
    assert b.put_revision(_published(1, stops=3))
    assert b.held("c1").read is None  # type: ignore[union-attr]  # taken, not read
    shown = b.latest("c1")
    assert shown is not None and shown.read is not None
    assert (shown.stop_count, shown.contacts) == (3, 9)
    counts = orjson.loads(shown.summary.json)["counts"]
    assert counts == {"stops": 3, "verified": 3, "gaps": 0, "contacts": 9, "close_contacts": 3}


def test_an_unreadable_revision_is_never_served_the_one_before_it_is(caplog) -> None:  # type: ignore[no-untyped-def]
    b = Board()
    b.put_itinerary(IT, 0, 0)
    b.put_revision(_published(1))
    b.put_revision(_published(2, raw=b'{"case_id":"c1","revision":2,"stops":[{"venue'))  # cut
    b.put_revision(_published(3, case_id="c1", raw=_published(3, case_id="c9").json))
    assert b.held("c1").revision == 3  # type: ignore[union-attr]  # not read yet
    assert [s.revision for s in b.since("c1", 0)] == [1]  # 2 and 3 let go once read
    assert "unreadable" in caplog.text and "'c9'" in caplog.text
    assert b.latest("c1").revision == 1 and b.revision("c1", 2) is None  # type: ignore[union-attr]
    # its owner answers again from revision 1: its revision 2 replaces nothing, it is new here
    assert b.takes("c1", 2) and b.put_revision(_published(2))
    assert b.latest("c1").contacts == 6  # type: ignore[union-attr]


def test_the_same_revision_again_replaces_only_one_not_read_yet() -> None:
    b = Board()
    b.put_itinerary(IT, 0, 0)
    b.put_revision(_published(1, raw=b"not json"))
    assert b.takes("c1", 1) and b.put_revision(_published(1, stops=1))
    assert b.latest("c1").stop_count == 1  # type: ignore[union-attr]
    assert not b.takes("c1", 1)  # read now: the same revision again changes nothing
    made_here = _shown(2)
    assert b.put_revision(made_here) and not b.takes("c1", 2)  # its own record read back


def test_an_unread_revision_that_would_be_the_only_one_left_is_read_first() -> None:
    """Revisions past the resumption window are let go when a new one comes; one unreadable
    must not leave the case with no revision to serve."""
    b = Board()
    b.put_itinerary(IT, 0, 0)
    b.put_revision(_published(1))
    late = RESUME_WINDOW_MS + 1
    assert not b.put_revision(_published(2, raw=b"[]", at_ms=late))
    assert b.latest("c1").revision == 1  # type: ignore[union-attr]
    assert b.put_revision(_published(3, at_ms=late))
    assert [s.revision for s in b.since("c1", 0)] == [3]
