from __future__ import annotations

import pytest

from truyvet.producers.files import FileFormatError, rows_from_bytes

HEADER = b"event_id,card_id,venue_id,scanner_id,direction,scanned_at,method\n"
ROW = b"e1,c1,v1,s1,in,2021-12-06T10:00:00+07:00,card\n"


def test_csv_rows_are_numbered_from_one_after_the_header_and_never_stop_reading() -> None:
    data = HEADER + ROW + b"e2,c1,v1,s1,inside,2021-12-06T10:00:00+07:00,card\n" + b"\n" \
        + b"e3,c1,v1\n" + b'"e4","c\xffx",v1,s1,out,2021-12-06T10:00:00Z,app\n' + ROW.replace(b"e1", b"e5")
    rows = rows_from_bytes(data, "csv")
    assert [(r.number, r.error.reason if r.error else "ok") for r in rows] == [
        (1, "ok"), (2, "bad_enum"), (4, "bad_value"), (5, "not_utf8"), (6, "ok")]
    assert rows[1].raw == b"e2,c1,v1,s1,inside,2021-12-06T10:00:00+07:00,card"
    assert rows[-1].record is not None and rows[-1].record.event_id == "e5"


def test_csv_header_in_any_order_with_bom_and_optional_version() -> None:
    data = "\ufeffmethod,scanned_at,direction,scanner_id,venue_id,card_id,event_id,v\n".encode() \
        + b"app,2021-12-06T10:00:00Z,out,s,v,c,e,1\n"
    [row] = rows_from_bytes(data, "csv")
    assert row.record is not None and row.record.method == "app" and row.record.direction == "out"


@pytest.mark.parametrize("header", [b"event_id,card_id\n", b"", HEADER.replace(b"method", b"meth"),
                                    HEADER.replace(b"\n", b",method\n")])
def test_a_wrong_header_is_an_error_for_the_whole_file(header: bytes) -> None:
    with pytest.raises(FileFormatError):
        rows_from_bytes(header + ROW, "csv")


def test_jsonl_numbers_lines_and_skips_blank_ones() -> None:
    good = b'{"event_id":"e","card_id":"c","venue_id":"v","scanner_id":"s","direction":"in",' \
           b'"scanned_at":"2021-12-06T10:00:00Z","method":"card"}'
    rows = rows_from_bytes(good + b"\n\n[1]\r\n" + good, "jsonl")
    assert [(r.number, r.error.reason if r.error else "ok") for r in rows] == [
        (1, "ok"), (3, "not_object"), (4, "ok")]
    assert rows[1].raw == b"[1]"
    assert rows[-1].end_offset == len(good + b"\n\n[1]\r\n" + good)
