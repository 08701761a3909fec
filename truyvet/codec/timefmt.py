"""RFC 3339 timestamps <-> integer epoch milliseconds.

Inside truyvet every instant is an ``int`` of milliseconds since the Unix epoch (UTC).
Inputs must be RFC 3339 *with* an offset (``Z`` or ``±hh:mm``); a bare local time is refused
because the instant it names is unknown. Outputs are always UTC with ``Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from truyvet.codec.errors import InvalidEvent, Reason

# Accepted calendar years (as written). A scan before 2020 or after 2099 is a broken clock.
MIN_YEAR = 2020
MAX_YEAR = 2099

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_MS_PER_S = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TZ_CACHE: dict[int, timezone] = {}
_DAY_CACHE: dict[tuple[int, str, str], int] = {}


_MINUTES: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" already parsed -> its epoch seconds
_DIGITS = frozenset("0123456789")


def parse_ms(value: str, field: str = "timestamp") -> int:
    """Parse an RFC 3339 timestamp with offset into epoch milliseconds.

    Sub-millisecond digits are truncated. Raises :class:`InvalidEvent` with ``bad_timestamp``
    for anything that is not a real instant, ``timestamp_out_of_range`` outside
    ``MIN_YEAR..MAX_YEAR``.

    What scanners send (``format_ms``'s two forms, ``…THH:MM:SSZ`` and ``…THH:MM:SS.mmmZ``)
    is read in a fast path once its minute has been parsed by the full rules
    (:func:`parse_ms_reference`); anything else takes the full rules every time. Both give
    the same answer for every string (tests/unit/test_fast_paths.py).
    """
    n = len(value)
    if (n == 20 or n == 24) and value[n - 1] == "Z" and value[16] == ":":
        minute = _MINUTES.get(value[:16])
        if minute is not None:
            s1, s2 = value[17], value[18]
            if s1 in _DIGITS and s2 in _DIGITS and s1 < "6":
                seconds = minute + int(value[17:19])
                if n == 20:
                    return seconds * _MS_PER_S
                m1, m2, m3 = value[20], value[21], value[22]
                if value[19] == "." and m1 in _DIGITS and m2 in _DIGITS and m3 in _DIGITS:
                    return seconds * _MS_PER_S + int(value[20:23])
        ms = parse_ms_reference(value, field)
        if len(_MINUTES) >= 100_000:  # ~70 days of minutes; bounds memory under garbage
            _MINUTES.clear()
        _MINUTES[value[:16]] = ms // _MS_PER_S - int(value[17:19])
        return ms
    return parse_ms_reference(value, field)


def parse_ms_reference(value: str, field: str = "timestamp") -> int:
    """:func:`parse_ms` by the full rules alone, for every string (the reference)."""
    m = _RFC3339.fullmatch(value)
    if m is None:
        raise InvalidEvent(
            Reason.BAD_TIMESTAMP, f"{field}: {value[:64]!r} is not RFC 3339 with an offset"
        )
    year = int(m.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidEvent(
            Reason.TIMESTAMP_OUT_OF_RANGE,
            f"{field}: year {year} outside {MIN_YEAR}..{MAX_YEAR}",
        )
    if m.group(8) is not None:
        offset_min = 0
    else:
        hh, mm = int(m.group(10)), int(m.group(11))
        if hh > 23 or mm > 59:
            raise InvalidEvent(Reason.BAD_TIMESTAMP, f"{field}: offset out of range in {value!r}")
        offset_min = hh * 60 + mm
        if m.group(9) == "-":
            offset_min = -offset_min
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if hour > 23 or minute > 59 or second > 59:  # RFC 3339 leap seconds are not accepted
        raise InvalidEvent(Reason.BAD_TIMESTAMP, f"{field}: time of day out of range in {value!r}")
    day = _day_start_s(year, m.group(2), m.group(3), value, field)
    seconds = day + hour * 3600 + minute * 60 + second - offset_min * 60
    frac = m.group(7)
    millis = int((frac + "00")[:3]) if frac else 0
    return seconds * _MS_PER_S + millis


def _day_start_s(year: int, month: str, day: str, value: str, field: str) -> int:
    """Epoch seconds of 00:00 UTC on a calendar date; raises for 30 February and friends."""
    key = (year, month, day)
    start = _DAY_CACHE.get(key)
    if start is None:
        try:
            date = datetime(year, int(month), int(day), tzinfo=UTC)
        except ValueError as exc:
            raise InvalidEvent(Reason.BAD_TIMESTAMP, f"{field}: {value!r}: {exc}") from None
        start = (date - _EPOCH) // timedelta(seconds=1)
        if len(_DAY_CACHE) < 100_000:  # all real dates fit; bounds memory under garbage
            _DAY_CACHE[key] = start
    return start


_DATES: dict[int, str] = {}  # epoch day -> "YYYY-MM-DD"
_DAY_S = 86_400


def format_ms(ms: int) -> str:
    """Format epoch milliseconds as RFC 3339 UTC: ``2021-12-06T03:04:05Z`` (``.123Z`` if needed).

    The date of each day is made once (strftime is most of the cost, and every record with
    times formats them: a cluster's hundreds of members at each change); the reference is
    :func:`format_ms_reference`."""
    seconds, millis = divmod(ms, _MS_PER_S)
    day, of_day = divmod(seconds, _DAY_S)
    date = _DATES.get(day)
    if date is None:
        date = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
        if len(_DATES) < 100_000:  # all real dates fit; bounds memory under garbage
            _DATES[day] = date
    hours, rest = divmod(of_day, 3600)
    minutes, secs = divmod(rest, 60)
    if millis:
        return f"{date}T{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}Z"
    return f"{date}T{hours:02d}:{minutes:02d}:{secs:02d}Z"


def format_ms_reference(ms: int) -> str:
    """:func:`format_ms` by ``datetime.strftime``, as it was written first."""
    seconds, millis = divmod(ms, _MS_PER_S)
    dt = _EPOCH + timedelta(seconds=seconds)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def format_ms_local(ms: int, offset_minutes: int) -> str:
    """Format epoch milliseconds as RFC 3339 at a fixed offset (``+07:00`` for Vietnam)."""
    tz = _TZ_CACHE.get(offset_minutes)
    if tz is None:
        tz = _TZ_CACHE.setdefault(offset_minutes, timezone(timedelta(minutes=offset_minutes)))
    seconds, millis = divmod(ms, _MS_PER_S)
    dt = (_EPOCH + timedelta(seconds=seconds)).astimezone(tz)
    text = dt.isoformat(timespec="seconds")
    if millis:
        text = f"{text[:19]}.{millis:03d}{text[19:]}"
    return text
