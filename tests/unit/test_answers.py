"""The default answer and the pages of contacts, against a reference written here from the
whole result: per stop the counts, the close contacts ranked (at most CLOSE_SHOWN), and a
cursor whose pages, followed to the end, give the rest of the ranking exactly once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.api.tracing import answers
from truyvet.codec.itinerary import Itinerary, Stop
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.matcher import Result, StopResult, encode_result

CLOSE_S = 900
T0 = 1_800_000_000

# per stop: card -> overlap; some stops have more close contacts than the answer lists
stop_st = st.dictionaries(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True),
                          st.sampled_from([1, 60, 899, 900, 901, 3600]) | st.integers(1, 7200),
                          max_size=40)
big_st = st.integers(0, 350).map(lambda n: {f"card-{i:04d}": 900 + i % 7 for i in range(n)})


def _result(stops: list[dict[str, int]], card: str | None) -> tuple[Result, VisitIndex]:
    index = VisitIndex()
    out = []
    for i, contacts in enumerate(stops):
        ranked = sorted(contacts.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(StopResult(
            f"V{i}", T0 + i * 7200, T0 + i * 7200 + 3600,
            None if card is None else i % 2 == 0, card is not None and i % 2 == 1,
            np.array([index.intern(c) for c, _ in ranked], np.int64),
            np.array([o for _, o in ranked], np.int64)))
    it = Itinerary("case/1 ä", "F0", card,
                   tuple(Stop(s.venue_id, s.from_s * 1000, s.to_s * 1000) for s in out))
    return Result(it, 3, T0 * 1000, tuple(out)), index


def _reference(whole: dict) -> dict:
    """What the default answer must say, from the whole result, written independently."""
    stops = []
    for i, s in enumerate(whole["stops"]):
        close = [c for c in s["contacts"] if c["overlap_s"] >= CLOSE_S]
        shown = close[:answers.CLOSE_SHOWN]
        stops.append({
            "venue_id": s["venue_id"], "from": s["from"], "to": s["to"],
            "verified": s["verified"], "gap": s["gap"],
            "counts": {"contacts": len(s["contacts"]), "close_contacts": len(close)},
            "contacts": shown,
            "has_next": len(shown) < len(s["contacts"])})
    return {"case_id": whole["case_id"], "revision": whole["revision"], "stops": stops,
            "counts": {"stops": len(stops), "verified": sum(bool(s["verified"]) for s in stops),
                       "gaps": sum(s["gap"] for s in stops),
                       "contacts": sum(s["counts"]["contacts"] for s in stops),
                       "close_contacts": sum(s["counts"]["close_contacts"] for s in stops)}}


def _page_of(whole: dict, cursor: str) -> dict:
    url = urlsplit(cursor)
    assert url.path == "/api/v1/itineraries/case%2F1%20%C3%A4/contacts"
    q = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
    assert q["revision"] == whole["revision"]
    page = answers.page(whole, q["stop"], q["after"], q.get("limit", answers.PAGE_SIZE))
    return orjson.loads(page.json)


@settings(max_examples=60, deadline=None)
@given(st.lists(stop_st | big_st, min_size=1, max_size=5), st.sampled_from(["card-x", None]),
       st.integers(1, 120))
def test_default_answer_and_pages_equal_the_reference(stops, card, limit) -> None:
    res, index = _result(stops, card)
    whole = orjson.loads(encode_result(res, index, CLOSE_S))
    made_here = answers.summary_of_result(
        res, CLOSE_S, lambda c, o: index.cards.contacts_json(c, o, CLOSE_S))
    read_back = answers.summary_of(whole)
    default = orjson.loads(made_here.json)
    assert orjson.loads(read_back.json) == default  # the owner and every other replica agree
    ref = _reference(whole)
    assert default["counts"] == ref["counts"]
    assert (default["case_id"], default["revision"], default["card_id"]) == (
        ref["case_id"], 3, card)
    assert made_here.contacts == read_back.contacts == sum(len(s["contacts"])
                                                           for s in ref["stops"])
    for i, (got, want) in enumerate(zip(default["stops"], ref["stops"], strict=True)):
        has_next = want.pop("has_next")
        cursor = got.pop("next")
        assert got == want
        assert (cursor is not None) == has_next
        # the rest of the ranking, page by page, with a client-chosen page size
        listed = list(got["contacts"])
        while cursor is not None:
            if "limit" not in cursor:
                cursor += f"&limit={limit}"
            page = _page_of(whole, cursor)
            assert page["stop"] == i and page["counts"] == want["counts"]
            assert len(page["contacts"]) <= limit
            listed += page["contacts"]
            cursor = page["next"]
        assert listed == whole["stops"][i]["contacts"]


def test_a_page_of_a_stop_the_result_lacks_is_refused() -> None:
    res, index = _result([{"a": 1000}], "card-x")
    whole = orjson.loads(encode_result(res, index, CLOSE_S))
    try:
        answers.page(whole, 1, 0, 10)
    except answers.NoSuchStop as exc:
        assert "1 stops" in str(exc)
    else:
        raise AssertionError("a page of stop 1 of a 1-stop result was given")
    assert orjson.loads(answers.page(whole, 0, 5, 10).json)["contacts"] == []
