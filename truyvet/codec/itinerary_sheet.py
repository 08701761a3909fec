"""Itineraries from the spreadsheets tracers keep: CSV, one row per declared stop (pure).

Columns, named in a header row in English or Vietnamese, with or without diacritics, in any
order: ``case_id`` (Mã ca), ``classification`` (Phân loại: F0 or F1), ``card_id`` (Mã thẻ,
optional), ``venue_id`` (Mã cơ sở), ``from`` (Từ) and ``to`` (Đến). A case's rows need not be
next to each other; its classification and card are the same on each (a blank card on a
later row is the same card). Times are Vietnam time unless they carry an offset:
``2021-12-06 19:00``, ``2021-12-06T19:00:00``, ``06/12/2021 19:00`` (day first, as written
in Vietnam) or RFC 3339. Commas, semicolons or tabs; UTF-8 with or without a BOM.

Every error names the spreadsheet's row (the header is row 1) and its column, with the
reason codes of ``schemas/``; a sheet with any error gives no itinerary at all, and each
case is checked whole by the itinerary codec (:func:`truyvet.codec.itinerary.from_mapping`),
as a POST of it would be.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.itinerary import Itinerary

MAX_ROWS = 5000
MAX_CASES = 500
OFFSET = "+07:00"  # Vietnam time
COLUMNS = ("case_id", "classification", "card_id", "venue_id", "from", "to")
REQUIRED = frozenset(COLUMNS) - {"card_id"}
_NAMES = {  # folded header -> column
    **{c: c for c in COLUMNS},
    "ma ca": "case_id", "ma ca benh": "case_id", "ma benh nhan": "case_id",
    "phan loai": "classification",
    "ma the": "card_id", "ma qr": "card_id", "ma the / ma qr ca nhan": "card_id",
    "ma qr ca nhan": "card_id",
    "ma co so": "venue_id", "co so": "venue_id",
    "tu": "from", "tu luc": "from", "gio den": "from",
    "den": "to", "den luc": "to", "gio di": "to",
}
_ISO_LOCAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?")
_STOP_AT = re.compile(r"^stops\[(\d+)\]: ")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the spreadsheet's row: the header is 1
    column: str | None
    reason: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason,
                "detail": self.detail}


class SheetRefused(ValueError):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} errors, the first in row {errors[0].row}")
        self.errors = errors


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("_", " ").split()).replace("case id", "case_id") \
        .replace("card id", "card_id").replace("venue id", "venue_id")


def local_time(text: str) -> str:
    """An RFC 3339 instant from a spreadsheet's time (Vietnam time unless it has an offset);
    raises ``InvalidEvent`` (bad_timestamp)."""
    t = text.strip()
    m = _ISO_LOCAL.fullmatch(t)
    if m:
        y, mo, d, h, mi, sec = m.groups()
    else:
        m = _DMY.fullmatch(t)
        if not m:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:\d{2})", t):
                return t  # RFC 3339: the codec reads it
            raise InvalidEvent(Reason.BAD_TIMESTAMP, f"{t[:40]!r}: write a time as "
                               f"2021-12-06 19:00 or 06/12/2021 19:00 (Vietnam time)")
        d, mo, y, h, mi, sec = m.groups()
    return f"{y}-{int(mo):02d}-{int(d):02d}T{int(h):02d}:{mi}:{sec or '00'}{OFFSET}"


def read(raw: bytes) -> list[Itinerary]:
    """The sheet's itineraries, one per case in the order the cases first appear; raises
    :class:`SheetRefused` with every error found."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetRefused([RowError(1, None, str(Reason.NOT_UTF8),
                                     f"not UTF-8 (byte {exc.start}): save the sheet as "
                                     f"CSV UTF-8")]) from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise SheetRefused([RowError(1, None, str(Reason.EMPTY_FIELD), "the sheet is empty")])
    try:
        dialect: Any = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:  # (newline="": the csv module reads the line ends itself, quoted ones too)
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise SheetRefused([RowError(1, None, str(Reason.BAD_VALUE),
                                     f"not a CSV sheet the reader can follow: {exc}")]) from None
    header, body = _header(rows[0]), rows[1:]
    if len(body) > MAX_ROWS:
        raise SheetRefused([RowError(MAX_ROWS + 2, None, str(Reason.TOO_LARGE),
                                     f"at most {MAX_ROWS} stops in one sheet")])
    errors: list[RowError] = []
    cases: dict[str, dict[str, Any]] = {}  # case_id -> mapping, with the rows of its stops
    for n, cells in enumerate(body, 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(RowError(n, None, str(Reason.UNKNOWN_FIELD),
                                   f"{len(cells)} cells, the header names {len(header)}"))
            continue
        row = {col: cells[i].strip() if i < len(cells) else "" for i, col in enumerate(header)}
        errors.extend(_add_row(cases, n, row))
    if len(cases) > MAX_CASES:
        errors.append(RowError(1, None, str(Reason.TOO_LARGE),
                               f"{len(cases)} cases, at most {MAX_CASES} in one sheet"))
    found = []
    for case in cases.values():
        try:
            found.append(itinerary_codec.from_mapping(case["mapping"]))
        except InvalidEvent as exc:
            errors.append(_case_error(case, exc))
    if not cases and not errors:
        errors.append(RowError(2, None, str(Reason.EMPTY_FIELD), "the sheet has no stop"))
    if errors:
        raise SheetRefused(sorted(errors, key=lambda e: (e.row, e.column or "")))
    return found


def _header(cells: list[str]) -> list[str]:
    columns, errors = [], []
    for cell in cells:
        col = _NAMES.get(_fold(cell))
        if col is None or col in columns:
            errors.append(RowError(1, cell.strip()[:40] or None, str(
                Reason.UNKNOWN_FIELD if col is None else Reason.BAD_VALUE),
                f"{cell.strip()[:40]!r}: {'twice' if col else 'not a column'}; the columns are "
                f"{', '.join(COLUMNS)} (or Mã ca, Phân loại, Mã thẻ, Mã cơ sở, Từ, Đến)"))
        columns.append(col or "")
    errors += [RowError(1, col, str(Reason.MISSING_FIELD), f"no {col} column")
               for col in COLUMNS if col in REQUIRED and col not in columns]
    if errors:
        raise SheetRefused(errors)
    return columns


def _add_row(cases: dict[str, dict[str, Any]], n: int, row: dict[str, str]) -> list[RowError]:
    errors = [RowError(n, col, str(Reason.EMPTY_FIELD), f"{col} is empty")
              for col in sorted(REQUIRED) if not row.get(col)]
    times = {}
    for col in ("from", "to"):
        if row.get(col):
            try:
                times[col] = local_time(row[col])
            except InvalidEvent as exc:
                errors.append(RowError(n, col, str(exc.reason), exc.detail))
    if errors:
        return errors
    case_id = row["case_id"]
    case = cases.setdefault(case_id, {"rows": [], "mapping": {
        "case_id": case_id, "classification": row["classification"].upper(),
        "card_id": row.get("card_id") or None, "stops": []}})
    m = case["mapping"]
    if row["classification"].upper() != m["classification"]:
        return [RowError(n, "classification", str(Reason.BAD_VALUE),
                         f"case {case_id!r} is {m['classification']} on row {case['rows'][0]}")]
    card = row.get("card_id") or None
    if card is not None and m["card_id"] is None and case["rows"]:
        return [RowError(n, "card_id", str(Reason.BAD_VALUE),
                         f"case {case_id!r} has no card on row {case['rows'][0]}")]
    if card is not None and m["card_id"] is not None and card != m["card_id"]:
        return [RowError(n, "card_id", str(Reason.BAD_VALUE),
                         f"case {case_id!r} has card {m['card_id']!r} on row {case['rows'][0]}")]
    case["rows"].append(n)
    m["stops"].append({"venue_id": row["venue_id"], "from": times["from"], "to": times["to"]})
    return []


def _case_error(case: dict[str, Any], exc: InvalidEvent) -> RowError:
    """The codec's refusal of a case, on the row it is about."""
    m = _STOP_AT.match(exc.detail)
    rows = case["rows"]
    if m and int(m.group(1)) < len(rows):
        return RowError(rows[int(m.group(1))], None, str(exc.reason), exc.detail[m.end():])
    return RowError(rows[0], None, str(exc.reason), f"case {case['mapping']['case_id']!r}: "
                                                    f"{exc.detail}")
