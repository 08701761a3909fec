"""A checkpoint file: named numpy arrays and a small JSON header, written whole or not at all,
refused when any byte of it changed.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON: the
caller's ``meta`` and where each array lies), the arrays (each at an 8-byte boundary), and the
SHA-256 of everything before it. :func:`write` streams it through
:func:`~truyvet.secret_file.replacing_private` (0600: a checkpoint holds what the data it
reflects holds; synced, then renamed over the target), so a reader finds the previous
checkpoint or the whole new one.
:func:`read` checks length, magic and digest before trusting a byte: a truncated file, a
flipped bit, a file of another format raise :class:`Unreadable` with the reason. Arrays are
plain numbers (no pickles, no object arrays).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from truyvet.secret_file import replacing_private

MAGIC = b"truyvet checkpoint 1\n"
_DIGEST = 32
_ALIGN = 8
_DTYPES = frozenset({"<u4", "<i4", "<i8", "|u1"})  # what checkpoints hold; nothing else is read


class Unreadable(Exception):
    """The file is not a whole, unchanged checkpoint of this format."""


def write(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> int:
    """Write the checkpoint; returns its size in bytes."""
    layout, pieces, offset = [], [], 0
    for name, array in arrays.items():
        a = np.ascontiguousarray(array)
        if a.dtype.str not in _DTYPES:
            raise TypeError(f"{name}: dtype {a.dtype.str} is not one a checkpoint holds")
        pad = -offset % _ALIGN
        offset += pad
        layout.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape),
                       "offset": offset})
        pieces.append((pad, a))
        offset += a.nbytes
    header = orjson.dumps({"meta": meta, "arrays": layout, "payload_bytes": offset})
    digest = hashlib.sha256()
    with replacing_private(path) as f:
        def put(data: bytes | memoryview) -> None:
            digest.update(data)
            f.write(data)
        put(MAGIC)
        put(len(header).to_bytes(8, "little"))
        put(header)
        for pad, a in pieces:
            put(b"\0" * pad)
            put(memoryview(a).cast("B"))
        f.write(digest.digest())
    _sync_dir(path.parent)
    return len(MAGIC) + 8 + len(header) + offset + _DIGEST


def read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The caller's ``meta`` and the arrays (read-only views of the file's bytes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    head = len(MAGIC) + 8
    if len(data) < head + _DIGEST:
        raise Unreadable(f"{len(data)} bytes: too short to be a checkpoint")
    if not data.startswith(MAGIC):
        raise Unreadable("not a checkpoint of this format (magic differs)")
    if hashlib.sha256(memoryview(data)[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise Unreadable("digest differs: truncated or changed since written")
    size = int.from_bytes(data[len(MAGIC):head], "little")
    try:
        header = orjson.loads(data[head:head + size])
        meta, layout, payload = header["meta"], header["arrays"], int(header["payload_bytes"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise Unreadable(f"header unreadable: {exc}") from None
    base = head + size
    if base + payload + _DIGEST != len(data):
        raise Unreadable("length differs from the header's")
    arrays = {}
    for entry in layout:
        try:
            dtype = np.dtype(entry["dtype"]) if entry["dtype"] in _DTYPES else None
            shape = tuple(int(n) for n in entry["shape"])
            at = int(entry["offset"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Unreadable(f"array entry unreadable: {exc}") from None
        if dtype is None:
            raise Unreadable(f"array {entry.get('name')!r}: dtype {entry['dtype']!r} not allowed")
        count = int(np.prod(shape, dtype=np.int64))
        if at < 0 or min(shape, default=0) < 0 or at + count * dtype.itemsize > payload:
            raise Unreadable(f"array {entry.get('name')!r} lies outside the payload")
        arrays[str(entry["name"])] = np.frombuffer(data, dtype, count, base + at).reshape(shape)
    return meta, arrays


def strings(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as two arrays a checkpoint holds: their UTF-8 bytes end to end, and where each
    ends."""
    raw = [v.encode() for v in values]
    ends = np.cumsum(np.fromiter(map(len, raw), np.int64, len(raw)))
    return np.frombuffer(b"".join(raw), np.uint8), ends


def from_strings(blob: np.ndarray, ends: np.ndarray) -> list[str]:
    """The strings :func:`strings` made into ``blob`` and ``ends``."""
    data = blob.tobytes()
    if len(ends) and (int(ends[-1]) != len(data) or np.any(np.diff(ends) < 0) or ends[0] < 0):
        raise Unreadable("string ends do not fit their bytes")
    starts = [0, *ends[:-1].tolist()] if len(ends) else []
    try:
        return [data[a:b].decode() for a, b in zip(starts, ends.tolist(), strict=True)]
    except UnicodeDecodeError as exc:
        raise Unreadable(f"a string is not UTF-8: {exc}") from None


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
