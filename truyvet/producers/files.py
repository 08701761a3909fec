"""Reading records from files: CSV (header = the field names) or JSON Lines.

Pure: yields :class:`Row` objects with 1-based row numbers (CSV: data rows, header excluded;
JSON Lines: lines), the row's original bytes, and either the validated record or the reason
it was refused. A bad row never stops the reading. What a record is -- its columns and how a
CSV row or a JSON line becomes one -- is a :class:`Kind` (check-ins, venues).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from truyvet.codec import checkin, venue
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.domain import venue_list
from truyvet.domain.names import fold
from truyvet.report.labels import CATEGORIES as CATEGORY_WORDS


class FileFormatError(ValueError):
    """The file as a whole cannot be read (unknown format, wrong CSV header)."""


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[str, ...]  # CSV columns that must be present
    optional: tuple[str, ...]  # CSV columns that may be present
    from_csv: Callable[[dict[str, str]], Any]  # raises InvalidEvent
    decode: Callable[[bytes], Any]  # a JSON line; raises InvalidEvent


def _checkin_from_csv(record: dict[str, Any]) -> Any:
    v = record.get("v")
    if v == "":
        del record["v"]
    elif isinstance(v, str) and v.strip().isdigit():
        record["v"] = int(v)
    return checkin.from_mapping(record)


def _venue_from_csv(record: dict[str, Any]) -> Any:
    for key in ("scanning_points", "staff_count", "capacity", "v"):
        value = record.get(key)
        if isinstance(value, str):
            if not value.strip():
                record.pop(key)
            elif value.strip().isdigit():
                record[key] = int(value)
    if not record.get("address"):
        record.pop("address", None)
    hours = record.get("opening_hours")
    if isinstance(hours, str):
        record["opening_hours"] = venue.parse_hours_text(hours)
    return venue.from_mapping(record)


def _listed_venue(record: Any) -> Any:
    if not isinstance(record, dict):
        raise InvalidEvent(Reason.NOT_OBJECT, "a listed venue must be an object")
    return venue_list.from_list(record, _CATEGORY_NAMES)


def _listed_venue_line(raw: bytes) -> Any:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(Reason.NOT_JSON, f"not JSON: {exc}") from None
    return _listed_venue(record)


# the categories' names as a province's list may write them (Vietnamese or English, folded)
_CATEGORY_NAMES = {fold(part): code for words in CATEGORY_WORDS.values()
                   for code, name in words.items() for part in (name, *name.split(","))}

CHECKINS = Kind("check-in", checkin.FIELDS, ("v",), _checkin_from_csv, checkin.decode)
VENUES = Kind("venue", ("venue_id", "name", "district", "ward", "category", "opening_hours",
                        "scanning_points", "staff_count"),
              ("address", "capacity", "v"), _venue_from_csv, venue.decode)
# the province's list: where venues are and what they are; the rest is assumed (domain.venue_list)
VENUE_LIST = Kind("listed venue", venue_list.COLUMNS, venue_list.OPTIONAL, _listed_venue,
                  _listed_venue_line)


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    raw: bytes
    record: Any = None  # the validated record (CheckIn, Venue, ...)
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


def read_rows(stream: BinaryIO, fmt: str, kind: Kind = CHECKINS) -> Iterator[Row]:
    if fmt == "jsonl":
        return _jsonl_rows(stream, kind)
    if fmt == "csv":
        return _csv_rows(stream, kind)
    raise FileFormatError(f"unknown format {fmt!r}, expected csv or jsonl")


def _jsonl_rows(stream: BinaryIO, kind: Kind) -> Iterator[Row]:
    offset = 0
    for number, line in enumerate(stream, start=1):
        offset += len(line)
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue  # blank lines are not records
        try:
            yield Row(number, raw, record=kind.decode(raw), end_offset=offset)
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


def _csv_rows(stream: BinaryIO, kind: Kind) -> Iterator[Row]:
    lines = _Lines(stream)
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise FileFormatError("the CSV file is empty; its first line must be the header")
    header = [h.strip().lstrip("\ufeff") for h in header]
    allowed = set(kind.columns) | set(kind.optional)
    missing = [f for f in kind.columns if f not in header]
    unknown = [h for h in header if h not in allowed]
    if missing or unknown or len(set(header)) != len(header):
        raise FileFormatError(
            f"CSV header must name the {kind.name} fields "
            f"({', '.join(kind.columns)}); missing: {missing or 'none'}, "
            f"unknown: {unknown or 'none'}, duplicated: "
            f"{sorted({h for h in header if header.count(h) > 1}) or 'none'}"
        )
    lines.pending.clear()
    for number, values in enumerate(reader, start=1):
        raw = b"".join(lines.pending).rstrip(b"\r\n")
        lines.pending.clear()
        if not values or values == [""]:
            continue
        yield _csv_row(kind, number, header, values, raw, lines.offset)


def _csv_row(
    kind: Kind, number: int, header: list[str], values: list[str], raw: bytes, offset: int
) -> Row:
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
    record: dict[str, Any] = dict(zip(header, values, strict=True))
    try:
        return Row(number, raw, record=kind.from_csv(record), end_offset=offset)
    except InvalidEvent as exc:
        return Row(number, raw, error=exc, end_offset=offset)


def rows_from_bytes(data: bytes, fmt: str, kind: Kind = CHECKINS) -> list[Row]:
    """Convenience for tests and small inputs."""
    return list(read_rows(io.BytesIO(data), fmt, kind))
