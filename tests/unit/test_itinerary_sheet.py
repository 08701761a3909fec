"""Itineraries from a tracer's spreadsheet: the columns in either language, Vietnam time,
each case whole, and every error by row and column with nothing taken from a sheet that has
one."""

from __future__ import annotations

import pytest

from truyvet.codec import itinerary_sheet as sheet
from truyvet.codec.itinerary import Itinerary, Stop
from truyvet.codec.timefmt import parse_ms

H = 3_600_000


def _ms(rfc3339: str) -> int:
    return parse_ms(rfc3339, "t")


def test_a_vietnamese_sheet_with_a_bom_and_semicolons() -> None:
    raw = ("Mã ca;Phân loại;Mã thẻ;Mã cơ sở;Từ;Đến\r\n"
           "BN-1;F0;TKS-1;TG;06/12/2021 19:00;06/12/2021 20:30\r\n"
           "BN-2;f1;;SH;2021-12-07 07:00;2021-12-07 07:45\r\n"
           ";;;;;\r\n"
           "BN-1;F0;;SH;2021-12-07T08:00:00;2021-12-07T09:00:00+07:00\r\n").encode("utf-8-sig")
    found = sheet.read(raw)
    t = _ms("2021-12-06T12:00:00Z")  # 19:00 in Vietnam
    assert found == [
        Itinerary("BN-1", "F0", "TKS-1", (Stop("TG", t, t + 90 * 60_000),
                                          Stop("SH", t + 13 * H, t + 14 * H))),
        Itinerary("BN-2", "F1", None, (Stop("SH", t + 12 * H, t + 12 * H + 45 * 60_000),)),
    ]


def test_english_columns_in_any_order_unaccented_and_rfc3339() -> None:
    raw = (b"to,from,venue_id,classification,case_id\n"
           b"2021-12-06T13:00:00Z,2021-12-06T12:00:00Z,TG,F0,BN-9\n")
    assert sheet.read(raw) == [Itinerary("BN-9", "F0", None, (
        Stop("TG", _ms("2021-12-06T12:00:00Z"), _ms("2021-12-06T13:00:00Z")),))]
    unaccented = b"ma ca,phan loai,ma co so,tu,den\nBN-9,F0,TG,06/12/2021 19:00,06/12/2021 20:00\n"
    assert sheet.read(unaccented) == sheet.read(raw)


def _errors(raw: bytes) -> list[tuple[int, str | None, str]]:
    with pytest.raises(sheet.SheetRefused) as refused:
        sheet.read(raw)
    return [(e.row, e.column, e.reason) for e in refused.value.errors]


def test_every_error_is_named_by_row_and_column_and_nothing_is_taken() -> None:
    raw = ("case_id,classification,card_id,venue_id,from,to\n"
           "BN-1,F0,C1,TG,06/12/2021 19:00,06/12/2021 20:00\n"  # row 2: fine
           "BN-1,F1,C1,SH,06/12/2021 21:00,06/12/2021 22:00\n"  # row 3: F1, was F0
           "BN-2,F0,,TG,yesterday evening,06/12/2021 20:00\n"  # row 4: a time not understood
           "BN-3,F0,,,06/12/2021 19:00,06/12/2021 20:00\n"  # row 5: no venue
           "BN-4,F0,,TG,06/12/2021 21:00,06/12/2021 20:00\n"  # row 6: to before from
           "BN-1,F0,C2,SH,06/12/2021 21:00,06/12/2021 22:00\n"  # row 7: another card
           "BN-5,F2,,TG,06/12/2021 19:00,06/12/2021 20:00\n").encode()  # row 8: no F2
    assert _errors(raw) == [(3, "classification", "bad_value"), (4, "from", "bad_timestamp"),
                            (5, "venue_id", "empty_field"), (6, None, "bad_interval"),
                            (7, "card_id", "bad_value"), (8, None, "bad_enum")]


def test_the_header_is_checked_first() -> None:
    assert _errors(b"case_id,classification,venue_id,from,to,notes\nx\n") == [
        (1, "notes", "unknown_field")]
    assert _errors(b"case_id,classification,from,to\n") == [(1, "venue_id", "missing_field")]
    assert _errors(b"case_id,Ma ca,classification,venue_id,from,to\n") == [
        (1, "Ma ca", "bad_value")]  # the same column twice
    assert _errors(b"") == [(1, None, "empty_field")]
    assert _errors(b"case_id,classification,venue_id,from,to\n") == [(2, None, "empty_field")]
    assert _errors(b"\xff\xfe c") == [(1, None, "not_utf8")]


def test_too_many_stops_in_one_sheet() -> None:
    row = "BN-{},F0,TG,06/12/2021 19:00,06/12/2021 20:00\n"
    raw = "case_id,classification,venue_id,from,to\n" + "".join(
        row.format(i) for i in range(sheet.MAX_ROWS + 1))
    assert _errors(raw.encode()) == [(sheet.MAX_ROWS + 2, None, "too_large")]


def test_bytes_that_are_no_csv_are_refused_by_name_not_by_a_crash() -> None:
    """Found by the API fuzz test: a lone carriage return inside a field made the csv module
    raise, and the import answered 500."""
    raw = "ò¹ä¿ñ°¤¹*¾\x0e\r>d~Ýó".encode()
    try:
        sheet.read(raw)
    except sheet.SheetRefused as exc:
        assert exc.errors and all(e.row >= 1 for e in exc.errors)
    else:
        raise AssertionError("a sheet of noise was read")
