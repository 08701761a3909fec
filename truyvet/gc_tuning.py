"""Garbage-collector settings for the long-running processes.

The worker and the API hold millions of small long-lived objects (scan tuples, card names)
and allocate millions of short-lived ones per minute. With CPython's default thresholds
(700, 10, 10) the collector runs every few hundred allocations and regularly walks all the
long-lived state: measured on an index rebuild, 160,000 visits/s by default against 268,000
with a young generation of 100,000 (bench/index.py reproduces the figure). Reference counting
still frees almost everything at once; only cycles wait longer.
"""

from __future__ import annotations

import gc

YOUNG = 100_000


def tune() -> None:
    gc.set_threshold(YOUNG, 50, 100)
