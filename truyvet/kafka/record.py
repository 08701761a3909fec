"""What the rest of truyvet sees of Kafka: plain records, whichever backend read them.

Steps, followers and tests take :class:`Record` tuples -- never a client library's message
objects -- so a job runs the same on the confluent-kafka backend and on the in-memory one
(``truyvet.kafka.backend``), and a unit test builds its input with one call.
"""

from __future__ import annotations

from typing import Any, NamedTuple

Headers = list[tuple[str, bytes]]
TopicPartition = tuple[str, int]


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None  # None: a tombstone
    timestamp_ms: int = -1  # the record's time (-1: none)
    headers: Headers | None = None


class Fed(NamedTuple):
    """What a :class:`~truyvet.kafka.backend.RecordSink` says of one batch it took."""

    records: int  # records taken (refused ones included)
    positions: list[tuple[int, int]]  # (partition, next offset) after the batch
    refused: list[tuple[int, int, BaseException]]  # (partition, offset, why): passed over
    errors: list[Any]  # the client's messages that carried an error instead of a record


class EndOfPartition(NamedTuple):
    """A consumer has read everything there was in this partition (for now)."""

    topic: str
    partition: int


def records(topic: str, values: list[bytes | None], partition: int = 0, key: bytes | None = None,
            first_offset: int = 0, timestamp_ms: int = -1) -> list[Record]:
    """Records of one partition at consecutive offsets (for tests and benchmarks)."""
    return [Record(topic, partition, first_offset + i, key, v, timestamp_ms)
            for i, v in enumerate(values)]
