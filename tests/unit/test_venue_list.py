"""The venue registry from the province's list: a minimal list (name, address, ward, district,
category) becomes registry records, what the list lacks is assumed and said to be, and the
report lists those venues."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.report_readers import parse_number
from truyvet.api.compliance.service import registry_gaps
from truyvet.codec import venue as venue_codec
from truyvet.producers.files import VENUE_LIST, FileFormatError, rows_from_bytes
from truyvet.report import html_format
from truyvet.report.table import from_api

LIST = """name,address,ward,district,category,scanning_points,opening_hours
Cà phê Tam Giang,12 Lê Lợi,Phường Phú Hội,Thành phố Huế,Quán cà phê,,
Nhà hàng Sông Hương,3 Hùng Vương,Phường Phú Nhuận,Thành phố Huế,nha hang,3,mon-sun 10:00-14:00
Quán nhậu Đông Ba,,Phường Đông Ba,Thành phố Huế,bar,2,mon-sun 17:00-24:00
Chợ A Lưới,,Thị trấn A Lưới,Huyện A Lưới,Markets,,
  CA PHE   tam giang ,12 le loi,phuong phu hoi,thanh pho hue,cafe,,
Karaoke,,Phường Phú Hội,Thành phố Huế,karaoke,,
,1 Lê Lợi,Phường Phú Hội,Thành phố Huế,cafe,,
Cà phê X,,Phường Phú Hội,Thành phố Huế,cafe,two,
"""
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _rows() -> list[Any]:
    return rows_from_bytes(LIST.encode(), "csv", VENUE_LIST)


def test_a_minimal_list_becomes_registry_records_with_what_was_assumed() -> None:
    rows = _rows()
    cafe, restaurant, bar, market, again = (r.record for r in rows[:5])
    # the list's own fields, as written
    assert (cafe.name, cafe.address, cafe.ward, cafe.district, cafe.category) == (
        "Cà phê Tam Giang", "12 Lê Lợi", "Phường Phú Hội", "Thành phố Huế", "cafe")
    # a category by its Vietnamese or English name, with or without diacritics
    assert (restaurant.category, market.category) == ("restaurant", "market")
    # assumed: a cafe's hours 06:00-22:00 every day, one scanning point, one member of staff
    assert cafe.opening_hours == {d: ((6 * 60, 22 * 60),) for d in EVERY_DAY}
    assert (cafe.scanning_points, cafe.staff_count) == (1, 1)
    assert cafe.assumed == ("opening_hours", "scanning_points", "staff_count")
    # given: kept, not assumed
    assert restaurant.opening_hours == {d: ((600, 840),) for d in EVERY_DAY}
    assert restaurant.scanning_points == 3 and restaurant.assumed == ("staff_count",)
    assert bar.opening_hours == {d: ((17 * 60, 24 * 60),) for d in EVERY_DAY}
    # a market's assumed hours: 05:00-18:00
    assert market.opening_hours == {d: ((300, 1080),) for d in EVERY_DAY}
    # the same place typed differently is the same venue (one id), every import
    assert again.venue_id == cafe.venue_id
    assert len({cafe.venue_id, restaurant.venue_id, bar.venue_id, market.venue_id}) == 4
    assert cafe.venue_id == _rows()[0].record.venue_id
    # a record the registry's codec takes back as it is
    assert venue_codec.decode(venue_codec.encode(cafe)) == cafe


def test_rows_the_registry_cannot_take_are_refused_by_row() -> None:
    refused = {r.number: (str(r.error.reason), r.error.detail) for r in _rows() if r.error}
    assert set(refused) == {6, 7, 8}
    assert refused[6][0] == "bad_enum" and "karaoke" in refused[6][1]
    assert refused[7] == ("empty_field", "name is empty")
    assert refused[8][0] == "wrong_type" and "scanning_points" in refused[8][1]


def test_the_list_needs_its_columns() -> None:
    with pytest.raises(FileFormatError, match="missing: \\['address'\\]"):
        rows_from_bytes(b"name,ward,district,category\nA,W,D,cafe\n", "csv", VENUE_LIST)
    with pytest.raises(FileFormatError, match="unknown: \\['hours'\\]"):
        rows_from_bytes(b"name,address,ward,district,category,hours\nA,,W,D,cafe,x\n", "csv",
                        VENUE_LIST)


def test_json_lines_of_the_list() -> None:
    lines = b"\n".join([
        orjson.dumps({"name": "Cà phê Tam Giang", "address": "12 Lê Lợi", "ward": "Phường Phú Hội",
                      "district": "Thành phố Huế", "category": "cafe", "staff_count": 2}),
        orjson.dumps({"name": "A", "ward": "W", "district": "D", "category": "cafe", "x": 1}),
        b"[1]", b"{not json"])
    first, unknown, array, broken = rows_from_bytes(lines, "jsonl", VENUE_LIST)
    assert first.record.staff_count == 2
    assert first.record.assumed == ("opening_hours", "scanning_points")
    assert first.record.venue_id == _rows()[0].record.venue_id  # the same place as the CSV's
    assert str(unknown.error.reason) == "unknown_field"
    assert (str(array.error.reason), str(broken.error.reason)) == ("not_object", "not_json")


def test_the_report_lists_the_venues_whose_data_is_assumed() -> None:
    venues = [r.record for r in _rows()[:4]]
    complete = venue_codec.from_mapping({**venue_codec.to_mapping(venues[1]),
                                         "venue_id": "FULL", "staff_count": 2, "assumed": []})
    reg = registry_gaps(5, [v for v in [*venues, complete] if v.assumed])
    assert (reg["venues"], reg["incomplete"]) == (5, 4)
    assert reg["assumed"] == {"opening_hours": 2, "scanning_points": 2, "staff_count": 4}
    # by district, then name
    assert [v["name"] for v in reg["incomplete_venues"]] == [
        "Chợ A Lưới", "Cà phê Tam Giang", "Nhà hàng Sông Hương", "Quán nhậu Đông Ba"]
    body = {"v": 1, "from": "2021-12-05T17:00:00Z", "to": "2021-12-12T17:00:00Z",
            "district": None, "generated_at": "2021-12-12T10:30:00Z",
            "total": _zero(), "districts": [], "worst_venues": [], "registry": reg}
    for lang in ("vi", "en"):
        html = html_format.render(from_api(body), lang).decode()
        for k, n in reg["assumed"].items():
            cell = html.split(f'data-assumed-count="{k}">', 1)[1].split("<", 1)[0]
            assert parse_number(cell, lang) == n
        assert all(f'data-incomplete="{v["venue_id"]}"' in html for v in reg["incomplete_venues"])
    assert "Cơ sở chưa đủ thông tin đăng ký" in html_format.render(from_api(body), "vi").decode()
    body["registry"] = registry_gaps(5, [])
    assert "data-incomplete" not in html_format.render(from_api(body), "vi").decode()


def _zero() -> dict[str, Any]:
    from truyvet.domain.compliance.figures import Figures

    return Figures().to_mapping()
