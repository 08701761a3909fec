"""Which partition a key goes to: murmur2, as Java clients, aiokafka and librdkafka's
``murmur2_random`` partition keys, so a key maps to the same partition number whichever
client wrote it, and co-partitioned topics (equal partition counts) keep a key's records
together."""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_of(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions
