"""Encoding and validation of every message truyvet reads or writes (pure: no I/O).

One module per topic's format, each with ``CODEC``: the schema it implements (``schemas/``),
``encode`` (object -> value bytes), ``decode`` (value bytes -> object, validated: raises
:class:`InvalidEvent` with a :class:`Reason`) and ``key`` (object -> record key).
``truyvet.topics`` names each topic's codec. The JSON Schemas are the contract; the decoders
implement the same rules by hand because several run on the hot path (``bench/codec.py``), and
``tests/contract`` proves they agree, over every example and over generated inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import load_json

T = TypeVar("T")


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How one topic's records are written and read."""

    schema: str  # schemas/<schema>.schema.json
    encode: Callable[[T], bytes | None]  # None: a tombstone
    decode: Callable[[bytes], T]
    key: Callable[[T], bytes]


def json_codec(schema: str, to_mapping: Callable[[T], Any], from_mapping: Callable[[Any], T],
               key: Callable[[T], bytes]) -> Codec[T]:
    """The codec of a message written as one JSON object: ``to_mapping`` and ``from_mapping``
    (which validates) are the format; bytes are orjson's."""

    def encode(x: T) -> bytes:
        return orjson.dumps(to_mapping(x))

    def decode(raw: bytes) -> T:
        return from_mapping(load_json(raw))

    return Codec(schema, encode, decode, key)


__all__ = ["Codec", "InvalidEvent", "Reason", "json_codec"]
