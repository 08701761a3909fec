"""murmur2 as Kafka's Java client computes it (the values of Kafka's own ``UtilsTest``), and
as aiokafka's independent implementation does, for any key."""

from __future__ import annotations

from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.kafka.partitioner import murmur2, partition_of


def signed(h: int) -> int:
    return h - (1 << 32) if h >= 1 << 31 else h


def test_murmur2_gives_the_java_clients_values() -> None:
    java = {b"21": -973932308, b"foobar": -790332482,
            b"a-little-bit-long-string": -985981536,
            b"a-little-bit-longer-string": -1486304829,
            b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
            b"abc": 479470107}
    assert {k: signed(murmur2(k)) for k in java} == java


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40), st.integers(1, 64))
def test_murmur2_and_the_partition_equal_aiokafkas(key: bytes, partitions: int) -> None:
    assert murmur2(key) == aiokafka_murmur2(key) & 0xFFFFFFFF
    assert partition_of(key, partitions) == (aiokafka_murmur2(key) & 0x7FFFFFFF) % partitions
