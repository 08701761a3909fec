"""What a valid check-in is, for every consumer of the check-in topic (pure).

The codec's rules (``truyvet.codec.checkin``), and one the codec cannot know: a scan stamped
further ahead of the reader's clock than ``max_future_ms`` comes from a scanner whose clock is
wrong. The ingest job dead-letters what this refuses; the compliance job, reading the same
topic, skips the same records (ingest reports them), so no scan counts in one and not the other.
"""

from __future__ import annotations

from truyvet.codec import checkin
from truyvet.codec.checkin import CheckIn
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.timefmt import format_ms


def accept(value: bytes | None, now_ms: int, max_future_ms: int) -> CheckIn:
    """The check-in in ``value``; raises :class:`InvalidEvent` saying why it is refused."""
    if value is None:
        raise InvalidEvent(Reason.NOT_JSON, "empty record (null value)")
    scan = checkin.decode(value)
    if scan.scanned_at_ms > now_ms + max_future_ms:
        raise InvalidEvent(
            Reason.TIMESTAMP_IN_FUTURE,
            f"scanned_at {format_ms(scan.scanned_at_ms)} is more than "
            f"{max_future_ms // 1000}s after the worker's clock {format_ms(now_ms)}",
        )
    return scan
