"""Vietnam's clock, in one place: Thừa Thiên Huế lives at UTC+07:00 all year (no daylight
saving), and everything local -- opening hours, days of the report, exit-scan days, the
inspection week, times shown to tracers -- is reckoned here from epoch seconds (UTC)."""

from __future__ import annotations

from datetime import timedelta, timezone

from truyvet.codec.timefmt import format_ms, format_ms_local, parse_ms

OFFSET_S = 7 * 3600
OFFSET_MIN = OFFSET_S // 60
OFFSET_TEXT = "+07:00"
TZ = timezone(timedelta(seconds=OFFSET_S), "ICT")  # Indochina Time
DAY_S = 86_400
_THURSDAY = 3  # 1970-01-01, day 0, was a Thursday (Monday = 0)


def local_day(t_s: int) -> int:
    """The local date of ``t_s``, as days since 1970-01-01."""
    return (t_s + OFFSET_S) // DAY_S


def weekday(t_s: int) -> int:
    """The local weekday of ``t_s``: 0 = Monday .. 6 = Sunday."""
    return (local_day(t_s) + _THURSDAY) % 7


def minute_of_day(t_s: int) -> int:
    """Minutes since local midnight."""
    return (t_s + OFFSET_S) % DAY_S // 60


def day_start_s(day: int) -> int:
    """Epoch seconds of local midnight starting local day ``day`` (days since 1970-01-01)."""
    return day * DAY_S - OFFSET_S


def date_text(t_s: int) -> str:
    """The local date of ``t_s``, ``YYYY-MM-DD``."""
    return day_text(local_day(t_s))


def day_text(day: int) -> str:
    """Local day ``day`` (days since 1970-01-01) as ``YYYY-MM-DD``."""
    return format_ms(day * DAY_S * 1000)[:10]


def date_start_ms(date: str, field: str = "date") -> int:
    """Epoch milliseconds of local midnight starting the local date ``YYYY-MM-DD``."""
    return parse_ms(f"{date}T00:00:00{OFFSET_TEXT}", field)


def format_local(ms: int) -> str:
    """RFC 3339 in Vietnam time: ``2021-12-06T19:05:12+07:00``."""
    return format_ms_local(ms, OFFSET_MIN)
