"""Encoding and validation of every message truyvet reads or writes (pure: no I/O).

The JSON Schemas in ``schemas/`` are the contract; these decoders implement the same rules
by hand because they run on the hot path (see ``bench/codec.py``), and
``tests/contract`` proves they accept exactly what the schemas accept.
"""

from truyvet.codec.errors import InvalidEvent, Reason

__all__ = ["InvalidEvent", "Reason"]
