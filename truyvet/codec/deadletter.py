"""Dead-letter envelope v1: an input that was refused, kept with the reason.

On the dead-letter topic the record *value* is the original bytes, unchanged, and the record
*key* is the original key; everything else travels in headers (``truyvet.dlq.*``), so a
record can be replayed byte for byte. :meth:`DeadLetter.to_mapping` gives the JSON view
described by ``schemas/deadletter.v1.schema.json`` (used by ``truyvet dlq`` and the API).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

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
