from __future__ import annotations

import pytest

from producers.files import VENUES, rows_from_bytes
from truyvet.codec import venue
from truyvet.codec.errors import InvalidEvent

HEADER = b"venue_id,name,district,ward,category,address,opening_hours,scanning_points,staff_count,capacity\n"


def test_hours_text_to_json_form() -> None:
    assert venue.parse_hours_text("mon-wed 07:00-17:30; sat,sun 08:00-12:00,14:00-18:00") == {
        "mon": ["07:00-17:30"], "tue": ["07:00-17:30"], "wed": ["07:00-17:30"],
        "sat": ["08:00-12:00", "14:00-18:00"], "sun": ["08:00-12:00", "14:00-18:00"]}
    assert list(venue.parse_hours_text("fri-mon 18:00-02:00")) == ["fri", "sat", "sun", "mon"]
    with pytest.raises(InvalidEvent):
        venue.parse_hours_text("weekdays 07:00-17:00")


def test_open_hours_past_midnight_and_round_trip() -> None:
    bar = venue.from_mapping({
        "venue_id": "b", "name": "Quán", "district": "Thành phố Huế", "ward": "Phú Hội",
        "category": "bar", "opening_hours": {"fri": ["18:00-02:00"]}, "scanning_points": 1,
        "staff_count": 1})
    assert venue.is_open(bar, 4, 20 * 60)  # Friday 20:00
    assert venue.is_open(bar, 5, 60)  # Saturday 01:00, still Friday's evening
    assert not venue.is_open(bar, 5, 3 * 60) and not venue.is_open(bar, 4, 12 * 60)
    assert venue.decode(venue.encode(bar)) == bar


def test_csv_rows_become_venues_or_say_why_not() -> None:
    data = HEADER + (
        "HUE-CF-1,Cà phê Sông Hương,Thành phố Huế,Phường Phú Hội,cafe,12 Lê Lợi,"
        "mon-sun 06:30-22:30,2,3,80\n"
        "HUE-BR-1,Quán nhậu,Thành phố Huế,Phường Vĩnh Ninh,karaoke,,fri-sat 18:00-02:00,1,1,\n"
        "HUE-OF-1,Sở TT-TT,Thành phố Huế,Phường Vĩnh Ninh,office,,mon-fri 7h-17h,1,2,\n"
        "HUE-OF-2,Sở Y tế,Thành phố Huế,Phường Vĩnh Ninh,office,,mon-fri 07:00-17:00,many,2,\n"
    ).encode()
    rows = rows_from_bytes(data, "csv", VENUES)
    assert rows[0].record.name == "Cà phê Sông Hương" and rows[0].record.capacity == 80
    assert rows[0].record.opening_hours["sun"] == ((390, 1350),)
    assert [r.error.reason for r in rows[1:]] == ["bad_enum", "bad_value", "wrong_type"]
