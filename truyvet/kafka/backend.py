"""The seam between truyvet and a Kafka client library: three small protocols and a backend
that makes them.

- :class:`GroupConsumer`: a member of a consumer group (the stream jobs): subscribe with
  assignment callbacks, consume batches of :class:`~truyvet.kafka.record.Record` (and
  :class:`~truyvet.kafka.record.EndOfPartition` markers, in order), commit explicit offsets;
- :class:`PartitionReader`: no group, partitions assigned by hand at chosen offsets (followers
  reading a whole topic, state rebuilds), its batches as records or handed to a
  :class:`RecordSink` whole;
- :class:`RawProducer`: produce with a delivery callback, poll, flush (``BufferError`` when its
  local queue is full: the caller serves deliveries and tries again).

Two backends implement them: :mod:`truyvet.kafka.confluent` (librdkafka, every process) and
:mod:`truyvet.kafka.memory` (one process, no broker: unit tests). One suite of tests runs the
jobs on both (``tests/suites``), so the in-memory one cannot drift from the real one.
Offsets are those of the next record to read, as Kafka's are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from truyvet.kafka.record import EndOfPartition, Fed, Headers, Record, TopicPartition

Partitions = Callable[[list[TopicPartition]], None]


class Delivered(Protocol):
    """A record as its delivery report gives it back (read only when needed: the report of a
    successful delivery is on the hot path of every producer)."""

    def topic(self) -> str: ...

    def key(self) -> bytes | None: ...

    def value(self) -> bytes | None: ...

    def partition(self) -> int: ...

    def offset(self) -> int: ...


class DeliveryError(Protocol):
    def str(self) -> str:
        """What failed, in one line."""


# (None, or why it failed; the record): called from poll() or flush(), once per record produced
Delivery = Callable[[DeliveryError | None, Delivered], None]


class GroupConsumer(Protocol):
    def subscribe(self, topics: Sequence[str], on_assign: Partitions, on_revoke: Partitions,
                  on_lost: Partitions) -> None:
        """Join the group; the callbacks run inside :meth:`consume`, on its thread: ``on_assign``
        before the first record of newly assigned partitions, ``on_revoke`` after the last one
        of partitions handed over, ``on_lost`` when they were taken without a handover."""

    def consume(self, max_records: int, timeout_s: float) -> list[Record | EndOfPartition]:
        """Up to ``max_records``, in offset order per partition; waits up to ``timeout_s``."""

    def committed(self, partitions: list[TopicPartition], timeout_s: float) -> dict[TopicPartition, int]:
        """The group's committed offset of each partition (0 where it has none)."""

    def commit(self, offsets: dict[TopicPartition, int], wait: bool) -> None:
        """Commit these offsets (the next record to process, per partition); asynchronously
        unless ``wait``. A failed asynchronous commit is reported to the consumer's
        ``on_commit_failed`` callback."""

    def close(self) -> None: ...


class PartitionReader(Protocol):
    def partitions(self, topic: str, timeout_s: float) -> list[int]:
        """The topic's partitions; raises ``LookupError`` while it is not known (yet)."""

    def watermarks(self, topic: str, partition: int, timeout_s: float,
                   cached: bool = False) -> tuple[int, int]:
        """(first offset still there, next offset to be written); ``cached``: as last fetched,
        without asking the broker (-1 before any fetch)."""

    def assign(self, positions: dict[TopicPartition, int]) -> None:
        """Read these partitions from these offsets (an offset no longer there: the earliest)."""

    def consume(self, max_records: int, timeout_s: float) -> list[Record]: ...

    def consume_into(self, sink: RecordSink, max_records: int, timeout_s: float) -> Fed:
        """Up to ``max_records`` handed to ``sink`` as the client has them, no
        :class:`Record` made (a compiled loader reads them); messages carrying an error
        other than a partition's end are logged."""

    def close(self) -> None: ...


class RecordSink(Protocol):
    """Takes records in bulk (``truyvet_native.IndexLoader``): each feed returns what
    :class:`~truyvet.kafka.record.Fed` holds, as a tuple."""

    def feed_messages(self, messages: list[Any]) -> tuple[Any, ...]:
        """confluent-kafka ``Message`` objects (``error()``, ``partition()``, ``offset()``,
        ``key()``, ``value()``)."""

    def feed_records(self, records: list[Record]) -> tuple[Any, ...]: ...


class RawProducer(Protocol):
    def produce(self, topic: str, key: bytes | str | None, value: bytes | None, *,
                partition: int | None = None, timestamp_ms: int = 0,
                headers: Headers | None = None, on_delivery: Delivery | None = None) -> None:
        """Queue a record (``partition`` None: murmur2 of the key; ``timestamp_ms`` 0: now);
        raises ``BufferError`` when the local queue is full."""

    def poll(self, timeout_s: float) -> int:
        """Serve delivery callbacks; returns how many were served."""

    def flush(self, timeout_s: float) -> int:
        """Serve every delivery; returns how many records are still pending after the timeout."""

    def pending(self) -> int:
        """Records queued or in flight whose delivery has not been served yet."""


class Backend(Protocol):
    def group_consumer(self, group: str, client_id: str,
                       on_commit_failed: Callable[[list[TopicPartition], str], None] | None = None,
                       **config: Any) -> GroupConsumer: ...

    def reader(self, client_id: str, **config: Any) -> PartitionReader: ...

    def producer(self, client_id: str, **config: Any) -> RawProducer: ...
