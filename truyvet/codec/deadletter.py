"""Dead-letter envelope v1: an input that was refused, kept with the reason.

On the dead-letter topic the record *value* is the original bytes, unchanged, and the record
*key* is the original key; everything else travels in headers (``truyvet.dlq.*``), so a
record can be replayed byte for byte (:meth:`DeadLetter.headers`,
:meth:`DeadLetter.from_record`). ``schemas/deadletter.v1.schema.json`` describes the JSON view
(:meth:`DeadLetter.to_mapping`, :func:`from_mapping`, ``CODEC``): what ``truyvet dlq show
--json`` writes and ``truyvet dlq replay`` reads back, corrected.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from truyvet.codec import Codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import check_keys, check_version, load_json, require_object, timestamp_ms
from truyvet.codec.timefmt import format_ms

VERSION = 1
_P = "truyvet.dlq."
Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: str  # a truyvet.codec.errors.Reason value
    detail: str
    stage: str  # the step that refused it: "publish", "ingest", ...
    failed_at_ms: int
    payload: bytes  # the original bytes, unchanged
    key: bytes | None = None  # the original record key
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    source_file: str | None = None
    source_row: int | None = None

    def headers(self) -> Headers:
        items: list[tuple[str, Any]] = [
            ("v", VERSION),
            ("reason", self.reason),
            ("detail", self.detail),
            ("stage", self.stage),
            ("failed_at", format_ms(self.failed_at_ms)),
            ("failed_at_ms", self.failed_at_ms),
            ("source.topic", self.source_topic),
            ("source.partition", self.source_partition),
            ("source.offset", self.source_offset),
            ("source.file", self.source_file),
            ("source.row", self.source_row),
        ]
        return [(_P + name, str(value).encode()) for name, value in items if value is not None]

    @classmethod
    def from_record(
        cls, value: bytes | None, key: bytes | None, headers: Headers | None
    ) -> DeadLetter:
        h = {
            name[len(_P):]: raw.decode("utf-8", "replace")
            for name, raw in headers or ()
            if name.startswith(_P) and raw is not None
        }

        def num(name: str) -> int | None:
            return int(h[name]) if name in h else None

        return cls(
            reason=h.get("reason", "unknown"),
            detail=h.get("detail", ""),
            stage=h.get("stage", "unknown"),
            failed_at_ms=num("failed_at_ms") or 0,
            payload=value or b"",
            key=key,
            source_topic=h.get("source.topic"),
            source_partition=num("source.partition"),
            source_offset=num("source.offset"),
            source_file=h.get("source.file"),
            source_row=num("source.row"),
        )

    def to_mapping(self) -> dict[str, Any]:
        source: dict[str, Any] = {}
        for name in ("topic", "partition", "offset", "file", "row"):
            value = getattr(self, f"source_{name}")
            if value is not None:
                source[name] = value
        try:
            text: str | None = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "v": VERSION,
            "reason": self.reason,
            "detail": self.detail,
            "stage": self.stage,
            "failed_at": format_ms(self.failed_at_ms),
            "source": source,
            "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
            "payload_base64": base64.b64encode(self.payload).decode("ascii"),
            "payload_text": text,
        }


_REQUIRED = frozenset({"reason", "detail", "stage", "failed_at", "source", "payload_base64"})
_ALLOWED = _REQUIRED | {"v", "key", "payload_text"}
_SOURCE = {"topic": str, "partition": int, "offset": int, "file": str, "row": int}


def from_mapping(obj: Any) -> DeadLetter:
    """The JSON view back to a dead letter. ``payload_text``, when present, is the payload (it
    is what a person corrects before a replay); otherwise ``payload_base64``."""
    obj = require_object(obj, "dead letter")
    check_keys(obj, _REQUIRED, _ALLOWED, "dead letter")
    check_version(obj, VERSION, "dead letter")
    for name in ("reason", "detail", "stage", "payload_base64"):
        if type(obj[name]) is not str:
            raise InvalidEvent(Reason.WRONG_TYPE, f"dead letter: {name} must be a string")
    if obj["reason"] not in set(Reason):
        raise InvalidEvent(Reason.BAD_ENUM, f"dead letter: unknown reason {obj['reason'][:32]!r}")
    source = require_object(obj["source"], "source")
    for name, value in source.items():
        if name not in _SOURCE or type(value) is not _SOURCE[name]:
            raise InvalidEvent(Reason.BAD_VALUE, f"dead letter: source.{str(name)[:20]} is not valid")
    text, key = obj.get("payload_text"), obj.get("key")
    if text is not None and type(text) is not str or key is not None and type(key) is not str:
        raise InvalidEvent(Reason.WRONG_TYPE, "dead letter: payload_text and key must be strings")
    try:
        payload = text.encode() if text is not None else base64.b64decode(
            obj["payload_base64"], validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidEvent(Reason.BAD_VALUE, "dead letter: payload_base64 is not base64") from None
    return DeadLetter(
        reason=obj["reason"], detail=obj["detail"], stage=obj["stage"],
        failed_at_ms=timestamp_ms(obj, "failed_at"), payload=payload,
        key=None if key is None else key.encode(),
        source_topic=source.get("topic"), source_partition=source.get("partition"),
        source_offset=source.get("offset"), source_file=source.get("file"),
        source_row=source.get("row"))


def encode(letter: DeadLetter) -> bytes:
    return orjson.dumps(letter.to_mapping())


def decode(raw: bytes) -> DeadLetter:
    return from_mapping(load_json(raw))


def key(letter: DeadLetter) -> bytes:
    return letter.key or b""


# the JSON view; on the topic: value = letter.payload, key = letter.key, headers = the rest
CODEC = Codec("deadletter.v1", encode, decode, key)
