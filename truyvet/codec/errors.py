"""Why an input was refused.

Every refusal carries a machine-readable :class:`Reason` (used as the dead-letter reason and
for counting) and a human-readable detail naming the offending field and value.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Reason codes for refused inputs. Stable: they appear in DLQ headers and metrics."""

    TOO_LARGE = "too_large"  # payload bigger than the codec accepts
    NOT_UTF8 = "not_utf8"  # bytes that are not valid UTF-8
    NOT_JSON = "not_json"  # not parseable as JSON
    NOT_OBJECT = "not_object"  # JSON, but not an object
    UNSUPPORTED_VERSION = "unsupported_version"  # "v" is not a version this codec reads
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    WRONG_TYPE = "wrong_type"
    EMPTY_FIELD = "empty_field"
    FIELD_TOO_LONG = "field_too_long"
    BAD_CHARACTERS = "bad_characters"  # control characters in an identifier
    BAD_ENUM = "bad_enum"  # value not among the allowed ones (direction, method, ...)
    BAD_TIMESTAMP = "bad_timestamp"  # not RFC 3339 with an offset, or not a real instant
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"  # outside the years the system accepts
    TIMESTAMP_IN_FUTURE = "timestamp_in_future"  # later than the clock allows (stream jobs)
    BAD_INTERVAL = "bad_interval"  # an end before its start
    BAD_VALUE = "bad_value"  # any other rule on one field's value
    PROCESSING_ERROR = "processing_error"  # a stream job failed on this input (a bug): kept, not lost


class InvalidEvent(ValueError):
    """An input that does not satisfy its schema. Raised by every decoder in this package."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
