"""What a batch job's step is: a pure-ish function of a batch of records to output records and
dead letters, with callbacks for partitions moving (``truyvet.jobs.runtime`` runs it).

A step must not raise for a bad input: it refuses it with :func:`dead_letter` (the reason, the
original bytes, where it came from). Anything it raises is a bug, and stops the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import InvalidEvent
from truyvet.kafka.record import Record, TopicPartition


class Output(NamedTuple):  # a tuple: made once per output record, in the hottest loops
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None = None  # None: the producer's partitioner (murmur2 of the key)
    timestamp_ms: int | None = None  # None: when written


@dataclass
class StepResult:
    outputs: list[Output] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


class Step(Protocol):
    stage: str  # the name dead letters carry

    def process(self, batch: Sequence[Record], now_ms: int) -> StepResult:
        """Records in offset order per partition -> outputs and dead letters."""

    def assigned(self, partitions: dict[TopicPartition, int]) -> None:
        """Newly assigned (topic, partition) -> the offset processing resumes at (the group's
        committed one): rebuild their state here, before their first record."""

    def revoked(self, partitions: list[TopicPartition]) -> None:
        """After the last record of partitions handed over (or lost): drop their state."""


def dead_letter(r: Record, refusal: InvalidEvent, stage: str, now_ms: int) -> DeadLetter:
    """A refused input record, kept byte for byte with the reason and where it came from."""
    return DeadLetter(reason=str(refusal.reason), detail=refusal.detail, stage=stage,
                      failed_at_ms=now_ms, payload=r.value or b"", key=r.key,
                      source_topic=r.topic, source_partition=r.partition, source_offset=r.offset)
