"""A case's F1 list: each card once over every stop, close at any stop makes an F1, ranked;
the CSV opens in a spreadsheet (BOM, diacritics) and reads back to the same list."""

from __future__ import annotations

import csv
import io

import orjson
from hypothesis import given
from hypothesis import strategies as st

from truyvet.api.tracing import f1_list


def stop(venue: str, frm: str, to: str, contacts: list[tuple[str, int, bool]]) -> dict:
    return {"venue_id": venue, "from": frm, "to": to, "verified": True, "gap": False,
            "contacts": [{"card_id": c, "overlap_s": o, "close_contact": close}
                         for c, o, close in contacts]}


RESULT = {"v": 1, "case_id": "CA-1", "classification": "F0", "card_id": "ME", "revision": 3,
          "computed_at": "2021-12-06T12:00:00Z", "stops": [
              stop("CF-1", "2021-12-06T01:00:00Z", "2021-12-06T02:00:00Z",
                   [("A", 3000, True), ("B", 600, False), ("C", 300, False)]),
              stop("NH-2", "2021-12-06T05:00:00Z", "2021-12-06T06:30:00Z",
                   [("B", 1200, True), ("D", 900, True), ("C", 120, False)]),
              stop("CH-3", "2021-12-06T09:00:00Z", "2021-12-06T09:20:00Z", []),
          ]}


def test_each_card_once_close_at_any_stop_ranked_close_first() -> None:
    everyone = f1_list.contacts_of(RESULT, everyone=True)
    assert [(c.card_id, c.close_contact, c.overlap_s) for c in everyone] == [
        ("A", True, 3000), ("B", True, 1800), ("D", True, 900), ("C", False, 420)]
    b = everyone[1]
    assert [(m.stop, m.venue_id, m.overlap_s) for m in b.met] == [(0, "CF-1", 600),
                                                                 (1, "NH-2", 1200)]
    assert [c.card_id for c in f1_list.contacts_of(RESULT)] == ["A", "B", "D"]  # the F1s


def test_json_counts_and_lists() -> None:
    body = orjson.loads(f1_list.as_json(RESULT).json)
    assert body["counts"] == {"cards": 3, "close_contacts": 3} and body["contacts"] == "close"
    assert body["f1"][1]["stops"][1] == {"stop": 1, "venue_id": "NH-2",
                                         "from": "2021-12-06T05:00:00Z",
                                         "to": "2021-12-06T06:30:00Z", "overlap_s": 1200}
    answer = f1_list.as_json(RESULT, everyone=True)
    assert answer.contacts == 4 and orjson.loads(answer.json)["counts"]["close_contacts"] == 3


def test_csv_has_a_bom_vietnamese_headers_and_reads_back() -> None:
    raw = f1_list.as_csv(RESULT, "vi").json
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["STT", "Mã thẻ / mã QR cá nhân", "Tiếp xúc gần (F1)"]
    assert [r[:5] for r in rows[1:]] == [["1", "A", "có", "50.0", "1"],
                                         ["2", "B", "có", "30.0", "2"],
                                         ["3", "D", "có", "15.0", "1"]]
    # Vietnam time (UTC+07:00): 05:00Z is 12:00 there
    assert rows[2][5] == "CF-1 2021-12-06 08:00–09:00 (10.0); NH-2 2021-12-06 12:00–13:30 (20.0)"
    en = list(csv.reader(io.StringIO(f1_list.as_csv(RESULT, "en", True).json.decode("utf-8-sig"))))
    assert en[0][1] == "Card / personal QR id" and en[-1][1:3] == ["C", "no"]


cards = st.sampled_from("ABCDEFGH")
stops_ = st.lists(st.lists(st.tuples(cards, st.integers(1, 9000), st.booleans()),
                           unique_by=lambda c: c[0], max_size=6), max_size=5)


@given(stops_)
def test_against_a_reference_over_the_stops(per_stop: list[list[tuple[str, int, bool]]]) -> None:
    result = {"case_id": "X", "revision": 1, "stops": [
        stop(f"V{i}", "2021-12-06T01:00:00Z", "2021-12-06T02:00:00Z", cs)
        for i, cs in enumerate(per_stop)]}
    got = {c.card_id: (c.close_contact, c.overlap_s, len(c.met))
           for c in f1_list.contacts_of(result, everyone=True)}
    cards_seen = {c for cs in per_stop for c, _, _ in cs}
    assert set(got) == cards_seen
    for card in cards_seen:
        at = [(o, close) for cs in per_stop for c, o, close in cs if c == card]
        assert got[card] == (any(close for _, close in at), sum(o for o, _ in at), len(at))
    ranked = f1_list.contacts_of(result, everyone=True)
    keys = [(not c.close_contact, -c.overlap_s, c.card_id) for c in ranked]
    assert keys == sorted(keys)
    assert [c.card_id for c in f1_list.contacts_of(result)] == \
        [c.card_id for c in ranked if c.close_contact]
