"""Field-level checks shared by every message decoder.

Each function takes the decoded JSON object and a field name, and returns the field's value
or raises :class:`InvalidEvent` naming the field. They mirror the JSON Schemas in
``schemas/`` (identifier: string of 1..128 characters without control characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import orjson

from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.timefmt import parse_ms

T = TypeVar("T")

MAX_ID_LENGTH = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def load_json(raw: bytes | str) -> Any:
    """orjson.loads with its errors mapped to ``not_utf8`` / ``not_json``."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        text = str(exc)
        if "UTF-8" in text or "surrogate" in text:
            raise InvalidEvent(Reason.NOT_UTF8, text) from None
        raise InvalidEvent(Reason.NOT_JSON, text) from None


def require_object(obj: Any, what: str) -> dict[str, Any]:
    if type(obj) is not dict:
        raise InvalidEvent(Reason.NOT_OBJECT, f"{what} must be a JSON object, got {type_name(obj)}")
    return obj


def element(raw: Any, where: str, keys: frozenset[str],
            build: Callable[[Mapping[str, Any]], T]) -> T:
    """An object in a list (``stops[3]``) with exactly ``keys``, made by ``build``; whatever
    is refused says where it is (``stops[3]: venue_id is empty``)."""
    try:
        obj = require_object(raw, where)
        check_keys(obj, keys, keys, where)
        return build(obj)
    except InvalidEvent as exc:
        raise InvalidEvent(exc.reason, f"{where}: {exc.detail}") from None


def check_keys(
    obj: Mapping[str, Any], required: frozenset[str], allowed: frozenset[str], what: str,
    extensible: bool = False,
) -> None:
    """Refuse unknown fields first (they may explain a missing one), then missing fields.
    ``extensible``: unknown fields are accepted (a newer producer's optional fields, see the
    schema evolution policy in docs/architecture.md); missing ones are still refused."""
    keys = obj.keys()
    if keys >= required and (extensible or keys <= allowed):  # the common case, checked in C
        return
    if not extensible:
        for key in obj:
            if key not in allowed:
                raise InvalidEvent(Reason.UNKNOWN_FIELD, f"{what}: unknown field {str(key)[:64]!r}")
    for key in required:
        if key not in obj:
            raise InvalidEvent(Reason.MISSING_FIELD, f"{what}: missing field {key!r}")


def check_version(obj: Mapping[str, Any], supported: int, what: str) -> None:
    """``v`` is optional and defaults to the current version; anything else is refused."""
    v = obj.get("v", supported)
    if type(v) not in (int, float) or v != supported:  # 1.0 is the integer 1 in JSON Schema
        raise InvalidEvent(
            Reason.UNSUPPORTED_VERSION, f"{what}: v={repr(v)[:16]}, this reader knows v={supported}"
        )


def identifier(obj: Mapping[str, Any], key: str, max_length: int = MAX_ID_LENGTH) -> str:
    value = obj[key]
    if type(value) is not str:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a string, got {type_name(value)}")
    if not value:
        raise InvalidEvent(Reason.EMPTY_FIELD, f"{key} is empty")
    if len(value) > max_length:
        raise InvalidEvent(
            Reason.FIELD_TOO_LONG, f"{key} has {len(value)} characters, at most {max_length}"
        )
    if _CONTROL.search(value) is not None:
        raise InvalidEvent(Reason.BAD_CHARACTERS, f"{key} contains control characters")
    return value


def optional_identifier(obj: Mapping[str, Any], key: str) -> str | None:
    return None if obj.get(key) is None else identifier(obj, key)


def choice(obj: Mapping[str, Any], key: str, allowed: Collection[str]) -> str:
    value = obj[key]
    if type(value) is not str:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a string, got {type_name(value)}")
    if value not in allowed:
        raise InvalidEvent(
            Reason.BAD_ENUM, f"{key}={value[:32]!r}, expected one of {', '.join(sorted(allowed))}"
        )
    return value


def timestamp_ms(obj: Mapping[str, Any], key: str) -> int:
    value = obj[key]
    if type(value) is not str:
        raise InvalidEvent(
            Reason.WRONG_TYPE, f"{key} must be an RFC 3339 string, got {type_name(value)}"
        )
    return parse_ms(value, key)


def optional_timestamp_ms(obj: Mapping[str, Any], key: str) -> int | None:
    return None if obj.get(key) is None else timestamp_ms(obj, key)


def count(obj: Mapping[str, Any], key: str, maximum: int) -> int:
    """A whole number in ``0..maximum``."""
    value = obj[key]
    if type(value) is not int:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be an integer, got {type_name(value)}")
    if not 0 <= value <= maximum:
        raise InvalidEvent(Reason.BAD_VALUE, f"{key}={value} outside 0..{maximum}")
    return value


def optional_count(obj: Mapping[str, Any], key: str, maximum: int) -> int | None:
    return None if obj.get(key) is None else count(obj, key, maximum)


def text(obj: Mapping[str, Any], key: str, maximum: int, minimum: int = 0) -> str:
    """A string of ``minimum..maximum`` characters (free text: control characters allowed)."""
    value = obj[key]
    if type(value) is not str:
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a string, got {type_name(value)}")
    if not minimum <= len(value) <= maximum:
        reason = Reason.EMPTY_FIELD if not value else Reason.FIELD_TOO_LONG
        raise InvalidEvent(reason, f"{key} must have {minimum}..{maximum} characters")
    return value


def strings(obj: Mapping[str, Any], key: str, minimum: int = 0, maximum_length: int = 100) -> list[str]:
    """A list of distinct non-empty strings (absent: empty)."""
    value = obj.get(key, [])
    if type(value) is not list or not all(
            type(x) is str and 0 < len(x) <= maximum_length for x in value):
        raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a list of non-empty strings")
    if len(value) < minimum or len(set(value)) != len(value):
        raise InvalidEvent(Reason.BAD_VALUE, f"{key}: at least {minimum}, no repeats")
    return value


def boolean(obj: Mapping[str, Any], key: str, nullable: bool = False) -> bool | None:
    value = obj[key]
    if type(value) is bool or (nullable and value is None):
        return value
    raise InvalidEvent(Reason.WRONG_TYPE, f"{key} must be a boolean, got {type_name(value)}")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)
