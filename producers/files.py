"""Reading check-ins from files: CSV (header = the check-in field names) or JSON Lines.

Pure: yields :class:`Row` objects with 1-based row numbers (CSV: data rows, header excluded;
JSON Lines: lines), the row's original bytes, and either the validated scan or the reason it
was refused. A bad row never stops the reading.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from truyvet.codec import checkin
from truyvet.codec.checkin import CheckIn
from truyvet.codec.errors import InvalidEvent, Reason


class FileFormatError(ValueError):
    """The file as a whole cannot be read (unknown format, wrong CSV header)."""


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    raw: bytes
    scan: CheckIn | None = None
    error: InvalidEvent | None = None
    end_offset: int = 0  # bytes of the file consumed so far (for progress)


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise FileFormatError(f"{path}: cannot tell the format from {suffix!r}; pass --format csv|jsonl")


def read_rows(stream: BinaryIO, fmt: str) -> Iterator[Row]:
    if fmt == "jsonl":
        return _jsonl_rows(stream)
    if fmt == "csv":
        return _csv_rows(stream)
    raise FileFormatError(f"unknown format {fmt!r}, expected csv or jsonl")


def _jsonl_rows(stream: BinaryIO) -> Iterator[Row]:
    offset = 0
    for number, line in enumerate(stream, start=1):
        offset += len(line)
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue  # blank lines are not records
        try:
            yield Row(number, raw, scan=checkin.decode(raw), end_offset=offset)
        except InvalidEvent as exc:
            yield Row(number, raw, error=exc, end_offset=offset)


class _Lines:
    """Decoded lines for csv.reader, remembering each line's bytes and the bytes read."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.offset = 0
        self.pending: list[bytes] = []

    def __iter__(self) -> Iterator[str]:
        for line in self._stream:
            self.offset += len(line)
            self.pending.append(line)
            # undecodable bytes survive as surrogates and are refused per row below
            yield line.decode("utf-8", "surrogateescape")


def _csv_rows(stream: BinaryIO) -> Iterator[Row]:
    lines = _Lines(stream)
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise FileFormatError("the CSV file is empty; its first line must be the header")
    header = [h.strip().lstrip("\ufeff") for h in header]
    allowed = set(checkin.FIELDS) | {"v"}
    missing = [f for f in checkin.FIELDS if f not in header]
    unknown = [h for h in header if h not in allowed]
    if missing or unknown or len(set(header)) != len(header):
        raise FileFormatError(
            "CSV header must name the check-in fields "
            f"({', '.join(checkin.FIELDS)}); missing: {missing or 'none'}, "
            f"unknown: {unknown or 'none'}, duplicated: "
            f"{sorted({h for h in header if header.count(h) > 1}) or 'none'}"
        )
    lines.pending.clear()
    for number, values in enumerate(reader, start=1):
        raw = b"".join(lines.pending).rstrip(b"\r\n")
        lines.pending.clear()
        if not values or values == [""]:
            continue
        yield _csv_row(number, header, values, raw, lines.offset)


def _csv_row(number: int, header: list[str], values: list[str], raw: bytes, offset: int) -> Row:
    if len(values) != len(header):
        err = InvalidEvent(
            Reason.BAD_VALUE, f"row has {len(values)} columns, the header has {len(header)}"
        )
        return Row(number, raw, error=err, end_offset=offset)
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            err = InvalidEvent(Reason.NOT_UTF8, "row contains bytes that are not UTF-8")
            return Row(number, raw, error=err, end_offset=offset)
    record: dict[str, object] = dict(zip(header, values, strict=True))
    if "v" in record:
        v = record["v"]
        record["v"] = int(v) if isinstance(v, str) and v.strip().isdigit() else v
        if record["v"] == "":
            del record["v"]
    try:
        return Row(number, raw, scan=checkin.from_mapping(record), end_offset=offset)
    except InvalidEvent as exc:
        return Row(number, raw, error=exc, end_offset=offset)


def rows_from_bytes(data: bytes, fmt: str) -> list[Row]:
    """Convenience for tests and small inputs."""
    return list(read_rows(io.BytesIO(data), fmt))
