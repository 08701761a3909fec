"""Which partition a key goes to: murmur2, as Java clients, aiokafka and librdkafka's
``murmur2_random`` partition keys, so a key maps to the same partition number whichever
client wrote it, and co-partitioned topics (equal partition counts) keep a key's records
together.

aiokafka's murmur2 is pure Python (~2 µs a key); the keys partitioned here repeat (venues,
cases), so answers are remembered for the most recent 65,536 (key, partitions) pairs.
"""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2


@lru_cache(maxsize=65_536)
def partition_of(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions
