"""Card ids interned to small integers, with what answers need of them, in numpy arrays.

- ``sort_keys``: each id's UTF-8 bytes, NUL-padded to a common width, so that numpy orders
  contacts by card_id (UTF-8 byte order is code point order; ids have no NUL);
- ``contacts_json``: thousands of contacts as JSON in one pass of array copies. Every contact
  takes a fixed-width row, padded with the spaces JSON allows between tokens:
  ``{"card_id":"C1"  ,"overlap_s":3600      ,"close_contact":true },`` -- one C-level copy
  instead of one Python object per contact.

A card no longer referenced (its visits past the retention) is *forgotten*: its id is erased
from the tables and its number is given to a later card, so neither the personal data nor the
memory outlives the retention. The caller says which numbers are still referenced.
"""

from __future__ import annotations

import re

import numpy as np
import orjson

from truyvet.codec import native

SPACE = 0x20
_OPEN = b'{"card_id":'
_MID = b',"overlap_s":'
_DIGITS = 10  # overlaps below 10**10 seconds
_CLOSE = b',"close_contact":'
_TRUE, _FALSE = b"true },", b"false},"
_TRUE_ROW = np.frombuffer(_TRUE, np.uint8)


class CardTable:
    def __init__(self, capacity: int = 1024) -> None:
        self.number: dict[str, int] = {}
        self.names: list[str] = []
        # two fixed-width byte tables, written through bytearrays (cheap slice assignment)
        # and read through numpy views
        self._sort_w, self._json_w, self._cap = 16, 18, capacity
        self._sort_buf = bytearray(capacity * self._sort_w)  # NUL-padded ids
        self._json_buf = bytearray(b" " * (capacity * self._json_w))  # '"id"' + spaces
        self._views()
        self._templates: dict[int, np.ndarray] = {}
        self._free: list[int] = []  # numbers of forgotten cards, given to the next ones
        self.forgets = 0  # calls of forget() that forgot cards: numbers may mean other cards

    @classmethod
    def of(cls, names: list[str]) -> CardTable:
        """A table holding ``names`` (distinct, non-empty) as numbers 0.. in order, built in
        bulk: what interning them one by one gives, in a fraction of the time (a restart
        from a checkpoint makes hundreds of thousands)."""
        n = len(names)
        table = cls(capacity=max(1024, n + n // 4))
        raw = [name.encode() for name in names]
        quoted = [_quoted(name, r) for name, r in zip(names, raw, strict=True)]
        table._grow(n, max(map(len, raw), default=0), max(map(len, quoted), default=0))
        if n:
            table._sort[:n] = np.array(raw, f"S{table._sort_w}")
            rows = np.array(quoted, f"S{table._json_w}").view(np.uint8).reshape(n, table._json_w)
            table._json[:n] = np.where(rows == 0, SPACE, rows)  # NUL-padded -> space-padded
        table.names = list(names)
        table.number = dict(zip(names, range(n), strict=True))
        if len(table.number) != n or "" in table.number:
            raise ValueError("card names must be distinct and non-empty")
        return table

    def __len__(self) -> int:
        """Cards held (forgotten ones not counted)."""
        return len(self.number)

    def intern(self, card: str) -> int:
        n = self.number.get(card)
        if n is not None:
            return n
        if self._free:
            n = self.number[card] = self._free.pop()
            self.names[n] = card
        else:
            n = self.number[card] = len(self.names)
            self.names.append(card)
        raw = card.encode()
        quoted = _quoted(card, raw)
        if n >= self._cap or len(raw) > self._sort_w or len(quoted) > self._json_w:
            self._grow(n + 1, len(raw), len(quoted))
        at = n * self._sort_w
        self._sort_buf[at:at + len(raw)] = raw
        at = n * self._json_w
        self._json_buf[at:at + len(quoted)] = quoted
        return n

    def forget(self, referenced: np.ndarray) -> int:
        """Forget every card whose number is not in ``referenced``: its id is erased and its
        number reused. Returns how many were forgotten."""
        alive = np.zeros(len(self.names), bool)
        referenced = referenced[referenced < len(self.names)]
        alive[referenced] = True
        gone = [int(n) for n in np.flatnonzero(~alive) if self.names[n]]
        for n in gone:
            del self.number[self.names[n]]
            self.names[n] = ""
            self._sort_buf[n * self._sort_w:(n + 1) * self._sort_w] = bytes(self._sort_w)
            self._json_buf[n * self._json_w:(n + 1) * self._json_w] = b" " * self._json_w
        self._free.extend(reversed(gone))
        if gone:
            self.forgets += 1
        return len(gone)

    def _grow(self, rows: int, sort_width: int, json_width: int) -> None:
        old_sort, old_json = self._sort, self._json
        self._cap = max(self._cap, rows * 3 // 2)
        self._sort_w = max(self._sort_w, sort_width)
        self._json_w = max(self._json_w, json_width)
        self._sort_buf = bytearray(self._cap * self._sort_w)
        self._json_buf = bytearray(b" " * (self._cap * self._json_w))
        self._views()
        self._sort[: len(old_sort)] = old_sort
        self._json[: len(old_json), : old_json.shape[1]] = old_json

    def _views(self) -> None:
        self._sort = np.frombuffer(self._sort_buf, f"S{self._sort_w}")
        self._json = np.frombuffer(self._json_buf, np.uint8).reshape(self._cap, self._json_w)

    def sort_keys(self, numbers: np.ndarray) -> np.ndarray:
        return self._sort[numbers]

    def sort_table(self) -> tuple[bytearray, int]:
        """Every card's sort key as one buffer of fixed-width rows, and the width (for the
        compiled core; valid until the next card is interned)."""
        return self._sort_buf, self._sort_w

    def contacts_json(self, numbers: np.ndarray, overlaps: np.ndarray, close_s: int) -> bytes:
        """``[{"card_id", "overlap_s", "close_contact"}, ...]`` in the given order: from the
        compiled core when it is built, byte for byte what :meth:`contacts_json_reference`
        writes."""
        if native.core is not None:
            got = native.core.contacts_json(
                self._json_buf, self._json_w, np.ascontiguousarray(numbers, np.uint32),
                np.ascontiguousarray(overlaps, np.int64), close_s)
            if got is not None:
                return got
        return self.contacts_json_reference(numbers, overlaps, close_s)

    def contacts_json_reference(self, numbers: np.ndarray, overlaps: np.ndarray,
                                close_s: int) -> bytes:
        """:meth:`contacts_json` with numpy's array copies: the reference."""
        n = len(numbers)
        if n == 0:
            return b"[]"
        jw = self._json.shape[1]
        template = self._templates.get(jw)
        if template is None:
            row = _OPEN + b" " * jw + _MID + b" " * _DIGITS + _CLOSE + _FALSE
            template = self._templates[jw] = np.frombuffer(row, np.uint8)
        rows = np.tile(template, (n, 1))
        a = len(_OPEN)
        rows[:, a:a + jw] = self._json[numbers]
        a += jw + len(_MID)
        rows[:, a:a + _DIGITS] = _digits(overlaps)
        a += _DIGITS + len(_CLOSE)
        rows[overlaps >= close_s, a:a + len(_TRUE)] = _TRUE_ROW
        return b"[" + rows.tobytes()[:-1] + b"]"


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')  # what JSON must escape in a string


def _quoted(card: str, raw: bytes) -> bytes:
    """The card id as a JSON string. Ids are plain text: quoting their UTF-8 bytes is what
    a JSON encoder does and costs a tenth of calling one (hundreds of thousands per restart);
    an id with a quote, backslash or control character goes through orjson."""
    return orjson.dumps(card) if _NEEDS_ESCAPE.search(card) else b'"' + raw + b'"'


def _digits(values: np.ndarray) -> np.ndarray:
    """Non-negative integers as ASCII digits in _DIGITS columns, spaces after."""
    if int(values.max()) < _LUT_SIZE:
        return _lut()[values]
    out = values.astype(f"S{_DIGITS}").view(np.uint8).reshape(len(values), _DIGITS).copy()
    out[out == 0] = SPACE
    return out


# Overlaps are at most a stop's length (7 days), so their digits come from a table (6 MB,
# made on first use): numpy's int-to-text conversion would cost more than all the rest.
_LUT_SIZE = 7 * 86_400 + 1
_LUT: np.ndarray | None = None


def warm_up() -> None:
    """Build the digit table now rather than in the first answer (about 0.3 s), when answers
    are written by the Python reference: the compiled core writes its digits itself, and the
    table built anyway took that CPU from the index's rebuild at every start."""
    if native.core is None:
        _lut()


def _lut() -> np.ndarray:
    global _LUT
    if _LUT is None:
        v = np.arange(_LUT_SIZE, dtype=np.int64)[:, None]
        width = np.maximum(1, np.floor(np.log10(np.maximum(v, 1))).astype(np.int64) + 1)
        col = np.arange(_DIGITS)[None, :]
        power = 10 ** np.clip(width - 1 - col, 0, None)
        table = ((v // power) % 10 + ord("0")).astype(np.uint8)
        table[col >= width] = SPACE
        _LUT = table
    return _LUT
