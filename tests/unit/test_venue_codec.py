from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truyvet.producers.files import VENUES, rows_from_bytes
from truyvet.codec import venue
from truyvet.codec.errors import InvalidEvent
from truyvet.domain import venues

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
    assert venues.is_open(bar, 4, 20 * 60)  # Friday 20:00
    assert venues.is_open(bar, 5, 60)  # Saturday 01:00, still Friday's evening
    assert not venues.is_open(bar, 5, 3 * 60) and not venues.is_open(bar, 4, 12 * 60)
    assert venue.decode(venue.encode(bar)) == bar


def _venue_open(hours: dict[str, list[str]]) -> venue.Venue:
    return venue.from_mapping({
        "venue_id": "x", "name": "x", "district": "d", "ward": "w", "category": "other",
        "opening_hours": hours, "scanning_points": 1, "staff_count": 1})


def test_open_for_counts_from_the_start_of_the_stretch() -> None:
    restaurant = _venue_open({d: ["10:00-14:00", "16:30-22:00"] for d in venue.WEEKDAYS})
    assert venues.open_for(restaurant, 0, 10 * 60) == 0
    assert venues.open_for(restaurant, 0, 17 * 60) == 30  # reopened at 16:30
    assert venues.open_for(restaurant, 0, 15 * 60) is None
    bar = _venue_open({"fri": ["18:00-02:00"], "sat": ["02:00-04:00"]})
    assert venues.open_for(bar, 5, 3 * 60) == 9 * 60  # Saturday 03:00: open since Friday 18:00
    hospital = _venue_open({d: ["00:00-24:00"] for d in venue.WEEKDAYS})
    assert venues.open_for(hospital, 2, 60) == 2 * 1440 + 60  # as far back as it looks


SPANS = st.sampled_from(["00:00-24:00", "06:30-22:30", "10:00-14:00", "16:30-22:00",
                         "17:00-01:00", "22:00-06:00", "00:00-00:00", "23:59-00:01"])


@given(st.dictionaries(st.sampled_from(venue.WEEKDAYS), st.lists(SPANS, max_size=3)),
       st.integers(0, 6), st.integers(0, 1439))
def test_open_for_agrees_with_the_spans(hours: dict[str, list[str]], weekday: int,
                                        minute: int) -> None:
    """Brute force: walk back minute by minute over the spans as written."""
    v = _venue_open(hours)

    def open_at(day_offset: int, m: int) -> bool:  # m minutes after that day's midnight
        for back in (0, 1):
            for s, e in v.opening_hours.get(venue.WEEKDAYS[(weekday + day_offset - back) % 7], ()):
                end = e if e > s else e + 1440
                if s <= m + back * 1440 < end:
                    return True
        return False

    expected, t = None, minute
    while open_at(t // 1440, t % 1440) and t > -2 * 1440 - 1:
        expected, t = minute - t, t - 1
    got = venues.open_for(v, weekday, minute)
    assert venues.is_open(v, weekday, minute) == (got is not None) == (expected is not None)
    if got is not None and expected is not None and expected < 2 * 1440:
        assert got == expected


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
