"""The tracer's list of cases: whose, in what order, counted how, and never a card."""

from __future__ import annotations

import orjson

from truyvet.api.tracing import answers, case_list
from truyvet.api.tracing.board import Board, Shown
from truyvet.codec.itinerary import Itinerary, Stop
from truyvet.domain.matching import ownership

H = 3_600_000


def _it(case_id: str, opened_by: str, at_ms: int, stops: int = 2,
        shared_with: tuple[str, ...] = ()) -> Itinerary:
    return Itinerary(case_id, "F0", f"card-of-{case_id}",
                     tuple(Stop(f"V{i}", i * H, i * H + H) for i in range(stops)),
                     submitted_at_ms=at_ms, submitted_by=opened_by, opened_by=opened_by,
                     shared_with=shared_with)


def _result(case_id: str, stops: list[tuple[bool, list[int]]]) -> Shown:
    """A published result: per stop whether a scan backs it and its contacts' overlaps."""
    body = {"case_id": case_id, "classification": "F0", "card_id": f"card-of-{case_id}",
            "revision": 3, "computed_at": "2021-12-07T02:10:00Z",
            "stops": [{"venue_id": f"V{i}", "from": "2021-12-06T12:00:00Z",
                       "to": "2021-12-06T13:00:00Z", "verified": ok, "gap": not ok,
                       "contacts": [{"card_id": f"c{i}-{j}", "overlap_s": o,
                                     "close_contact": o >= 900}
                                    for j, o in enumerate(sorted(overlaps, reverse=True))]}
                      for i, (ok, overlaps) in enumerate(stops)]}
    raw = orjson.dumps(body)
    return Shown.of(case_id, 3, raw, len(stops), 0, answers.summary_of(body), 0, 0)


def _caller(name: str, *roles: str) -> ownership.Caller:
    return ownership.Caller(name, frozenset(roles or ("tracer",)), None)


def _board() -> Board:
    b = Board()
    b.put_itinerary(_it("old", "lan", 1 * H), 0, 0)
    b.put_itinerary(_it("new", "lan", 5 * H, stops=3), 0, 1)
    b.put_itinerary(_it("theirs", "minh", 4 * H), 1, 0)
    b.put_itinerary(_it("shared", "minh", 3 * H, shared_with=("lan",)), 1, 1)
    b.put_itinerary(_it("waiting", "lan", 2 * H), 0, 2)  # not answered yet
    b.put_revision(_result("old", [(True, [1200, 300]), (False, [])]))
    b.put_revision(_result("new", [(False, [60]), (True, [900, 901, 5]), (True, [])]))
    b.put_revision(_result("theirs", [(True, [2000]), (True, [])]))
    b.put_revision(_result("shared", [(False, [100, 1000]), (False, [])]))
    return b


def test_a_tracer_lists_its_own_and_shared_cases_newest_first() -> None:
    lan = _caller("lan")
    body = case_list.listed(_board(), lambda it: ownership.may_see(it, lan))
    assert [c["case_id"] for c in body["cases"]] == ["new", "shared", "waiting", "old"]
    assert body["total"] == 4 and body["v"] == 1
    by_id = {c["case_id"]: c for c in body["cases"]}
    # counted by hand from the results above
    assert by_id["new"]["counts"] == {"stops": 3, "verified": 2, "gaps": 1, "contacts": 4,
                                      "close_contacts": 2}
    assert by_id["shared"]["counts"] == {"stops": 2, "verified": 0, "gaps": 2, "contacts": 2,
                                         "close_contacts": 1}
    assert by_id["old"]["counts"] == {"stops": 2, "verified": 1, "gaps": 1, "contacts": 2,
                                      "close_contacts": 1}
    assert by_id["waiting"]["revision"] is None
    assert by_id["waiting"]["counts"] == {"stops": 2, "verified": None, "gaps": None,
                                          "contacts": None, "close_contacts": None}
    assert by_id["shared"]["opened_by"] == "minh" and by_id["new"]["submitted_by"] == "lan"
    assert by_id["new"]["submitted_at"] == "1970-01-01T05:00:00Z"
    assert b"card" not in orjson.dumps(body)  # no card: neither the case's nor a contact's


def test_a_supervisor_lists_every_case_and_the_limit_keeps_the_newest() -> None:
    boss = _caller("chief", "supervisor")
    every = case_list.listed(_board(), lambda it: ownership.may_see(it, boss))
    assert [c["case_id"] for c in every["cases"]] == ["new", "theirs", "shared", "waiting", "old"]
    two = case_list.listed(_board(), lambda it: ownership.may_see(it, boss), limit=2)
    assert [c["case_id"] for c in two["cases"]] == ["new", "theirs"] and two["total"] == 5


def test_a_tracer_with_no_case_gets_an_empty_list() -> None:
    body = case_list.listed(_board(), lambda it: ownership.may_see(it, _caller("hoa")))
    assert body == {"v": 1, "total": 0, "cases": []}
