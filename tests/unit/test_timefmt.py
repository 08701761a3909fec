from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.timefmt import format_ms, format_ms_local, parse_ms

LOW = int(datetime(2020, 1, 2, tzinfo=UTC).timestamp() * 1000)
HIGH = int(datetime(2099, 12, 30, tzinfo=UTC).timestamp() * 1000)
instants = st.integers(LOW, HIGH)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59)


@given(instants)
def test_format_then_parse_is_identity(ms: int) -> None:
    assert parse_ms(format_ms(ms)) == ms


@given(instants, offsets)
def test_any_offset_names_the_same_instant(ms: int, offset: int) -> None:
    assert parse_ms(format_ms_local(ms, offset)) == ms


@given(st.datetimes(min_value=datetime(2020, 1, 2), max_value=datetime(2099, 12, 30)), offsets)
def test_agrees_with_the_standard_library(dt: datetime, offset: int) -> None:
    aware = dt.replace(tzinfo=timezone(timedelta(minutes=offset)))
    expected = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert parse_ms(aware.isoformat()) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("2021-12-06T10:00:00", Reason.BAD_TIMESTAMP),  # no offset: which instant?
    ("2021-12-06", Reason.BAD_TIMESTAMP),
    ("2021-02-29T10:00:00Z", Reason.BAD_TIMESTAMP),  # not a leap year
    ("2021-12-06T23:59:60Z", Reason.BAD_TIMESTAMP),  # leap seconds refused
    ("2021-12-06T10:00:00+25:00", Reason.BAD_TIMESTAMP),
    ("1970-01-01T00:00:00Z", Reason.TIMESTAMP_OUT_OF_RANGE),
    ("2100-01-01T00:00:00Z", Reason.TIMESTAMP_OUT_OF_RANGE),
])
def test_refuses(text: str, reason: Reason) -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_ms(text)
    assert err.value.reason == reason


def test_milliseconds_truncate_and_format() -> None:
    assert parse_ms("2021-12-06T10:00:00.123999+07:00") == parse_ms("2021-12-06T03:00:00Z") + 123
    assert format_ms(parse_ms("2021-12-06T03:00:00.5Z")) == "2021-12-06T03:00:00.500Z"
    assert format_ms_local(parse_ms("2021-12-06T03:00:00Z"), 420) == "2021-12-06T10:00:00+07:00"


@given(st.integers(0, 253_402_300_799_999))  # 1970 to the end of year 9999
def test_format_equals_its_strftime_reference(ms: int) -> None:
    from truyvet.codec.timefmt import format_ms_reference

    assert format_ms(ms) == format_ms_reference(ms)
    assert format_ms(ms) == format_ms(ms)  # the second time from the day's cached date
