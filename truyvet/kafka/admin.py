"""Topic creation and consumer-group lag, through Kafka's admin API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sized
from dataclasses import dataclass

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from truyvet.kafka.config import librdkafka
from truyvet.kafka.retry import BROKER_AWAY_S, is_transient
from truyvet.settings import Settings
from truyvet.topics import TopicSpec, catalogue

log = logging.getLogger(__name__)


class BrokerUnreachable(RuntimeError):
    """Kafka did not answer: said in one sentence, with what to check."""


def admin_client(s: Settings) -> AdminClient:
    return AdminClient(librdkafka(s, **{"socket.timeout.ms": 10_000}))


def brokers_answering(s: Settings, timeout: float = 2.0) -> int:
    """How many brokers the cluster's metadata lists now (a local stack's readiness probe:
    quiet about the connections refused while the brokers start)."""
    admin = AdminClient(librdkafka(s, **{"socket.connection.setup.timeout.ms": 1000,
                                         "log_level": 2}))
    return len(admin.list_topics(timeout=timeout).brokers)


def end_offsets(s: Settings, names: list[str], timeout: float = 10.0) -> dict[str, int]:
    """Per topic, the sum of its partitions' end offsets: records ever written (topics that
    do not exist count 0)."""
    admin = admin_client(s)
    meta = admin.list_topics(timeout=timeout)
    request = {TopicPartition(name, p): OffsetSpec.latest()
               for name in names if name in meta.topics for p in meta.topics[name].partitions}
    out = dict.fromkeys(names, 0)
    if request:
        for tp, f in admin.list_offsets(request, request_timeout=timeout).items():
            out[tp.topic] += f.result().offset
    return out


def replication_for(brokers: int, requested: int = 0) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of ``brokers`` brokers.

    Default: three copies where three brokers exist, and acks=all then needs two in sync, so
    one broker may fail without losing acknowledged data or availability. On one broker both
    are 1 (there is nothing to replicate to).
    """
    rf = requested or min(3, brokers)
    if rf > brokers:
        raise ValueError(f"replication factor {rf} needs {rf} brokers, the cluster has {brokers}")
    return rf, (2 if rf >= 3 else 1)


def ensure_topics(
    s: Settings, specs: list[TopicSpec] | None = None, timeout: float = 30.0
) -> list[str]:
    """Create the missing topics of the catalogue; returns the names created.

    Existing topics get the catalogue's settings (retention, segment rolling, cleanup policy):
    a retention shortened in the settings must reach topics made before, or personal data
    would be kept longer than allowed. Their partition count is left as it is (changing it
    would move keys to other partitions); a difference is logged.
    """
    specs = catalogue(s) if specs is None else specs
    admin = admin_client(s)
    try:
        meta = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise BrokerUnreachable(
            f"Kafka at {s.bootstrap_servers} did not answer within {timeout:.0f} s "
            f"({exc.args[0].str()}). Is it running? Check --bootstrap-servers / "
            f"KAFKA_BOOTSTRAP_SERVERS, or leave it unset to use the local broker that "
            f"`truyvet run` or `truyvet stack up` starts.") from None
    rf, min_isr = replication_for(len(meta.brokers), s.replication_factor)
    missing, existing_specs = [], []
    for spec in specs:
        existing = meta.topics.get(spec.name)
        if existing is not None and existing.error is None:
            if len(existing.partitions) != spec.partitions:
                log.warning(
                    "topic %s has %d partitions, the catalogue says %d",
                    spec.name, len(existing.partitions), spec.partitions,
                )
            existing_specs.append(spec)
            continue
        config = {"min.insync.replicas": str(min_isr), **spec.config}
        missing.append(NewTopic(spec.name, spec.partitions, rf, config=config))
    _align_configs(admin, existing_specs, timeout)
    if not missing:
        return []
    futures = admin.create_topics(missing, operation_timeout=timeout, request_timeout=timeout)
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != exc.args[0].TOPIC_ALREADY_EXISTS:  # a racing creator
                raise
    _wait_for_leaders(admin, [t.topic for t in missing], timeout)
    return created


def ensure_topics_waiting(s: Settings, wait_s: float = BROKER_AWAY_S) -> list[str]:
    """:func:`ensure_topics` for a process starting up: while the cluster is away or electing
    (unreachable, a request timed out waiting for the controller, topics without leaders yet)
    it waits and tries again, for up to ``wait_s``, instead of failing: a worker or an API
    started during a broker's restart must wait for it, not die."""
    deadline = time.monotonic() + wait_s
    warned = False
    while True:
        try:
            return ensure_topics(s)
        except (BrokerUnreachable, TimeoutError, KafkaException) as exc:
            transient = not isinstance(exc, KafkaException) or (
                isinstance(exc.args[0], KafkaError) and is_transient(exc.args[0]))
            if not transient or time.monotonic() > deadline:
                raise
            if not warned:
                log.warning("the topics cannot be made sure of yet (%s); waiting for the cluster "
                            "for up to %.0fs", exc, wait_s)
                warned = True
            time.sleep(1.0)


def _align_configs(admin: AdminClient, specs: list[TopicSpec], timeout: float) -> None:
    """Set, on existing topics, every config of the catalogue whose value differs, and wait
    until the brokers show the new values."""
    wrong = _configs_differing(admin, specs, timeout)
    if not wrong:
        return
    for name, configs in wrong.items():
        for k, (old, new) in configs.items():
            log.warning("topic %s: %s %s -> %s (the catalogue's)", name, k, old, new)
    changes = [ConfigResource(ResourceType.TOPIC, name, incremental_configs=[
        ConfigEntry(k, new, incremental_operation=AlterConfigOpType.SET)
        for k, (_, new) in configs.items()]) for name, configs in wrong.items()]
    for future in admin.incremental_alter_configs(changes, request_timeout=timeout).values():
        future.result()
    pending = [spec for spec in specs if spec.name in wrong]
    _wait_until(lambda: _configs_differing(admin, pending, timeout), "topic configs not applied",
                timeout)


def _configs_differing(admin: AdminClient, specs: list[TopicSpec],
                       timeout: float) -> dict[str, dict[str, tuple[str | None, str]]]:
    """topic -> {config: (its value, the catalogue's)} where they differ."""
    if not specs:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, spec.name) for spec in specs]
    described = admin.describe_configs(resources, request_timeout=timeout)
    out = {}
    for spec, resource in zip(specs, resources, strict=True):
        current = {k: e.value for k, e in described[resource].result().items()}
        wrong = {k: (current.get(k), v) for k, v in spec.config.items() if current.get(k) != v}
        if wrong:
            out[spec.name] = wrong
    return out


def _wait_for_leaders(admin: AdminClient, names: list[str], timeout: float) -> None:
    """Until every partition of ``names`` has a leader: a topic is usable only then."""
    def without_leaders() -> list[str]:
        meta = admin.list_topics(timeout=timeout)
        return [n for n in names if n not in meta.topics or meta.topics[n].error is not None
                or any(p.leader < 0 for p in meta.topics[n].partitions.values())]
    _wait_until(without_leaders, "topics without leaders", timeout)


def _wait_until(pending: Callable[[], Sized], what: str, timeout: float) -> None:
    """Ask ``pending()`` again until it is empty; TimeoutError naming what is left after
    ``timeout`` seconds (the broker applies metadata and configs asynchronously)."""
    deadline = time.monotonic() + timeout
    while left := pending():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout}s: {left}")
        time.sleep(0.1)


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group has committed nothing for this partition
    end: int
    lag: int


def group_lag(
    s: Settings, group: str, topics: list[str] | None = None, timeout: float = 10.0
) -> list[PartitionLag]:
    """Committed offset, end offset and lag for each partition a group has committed on.

    With ``topics``, every partition of those topics is listed, and a partition with no
    commit counts its whole content (from the earliest offset) as lag.
    """
    admin = admin_client(s)
    request = ConsumerGroupTopicPartitions(group)
    result = admin.list_consumer_group_offsets([request], request_timeout=timeout)[group].result()
    committed = {
        (tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0
    }
    wanted = set(committed)
    if topics:
        meta = admin.list_topics(timeout=timeout)
        for t in topics:
            for p in meta.topics[t].partitions:
                wanted.add((t, p))
    if not wanted:
        return []
    ends, starts = _watermarks(s, sorted(wanted), timeout)
    out = []
    for key in sorted(wanted):
        c = committed.get(key)
        base = c if c is not None else starts[key]
        out.append(PartitionLag(key[0], key[1], c, ends[key], max(0, ends[key] - base)))
    return out


def _watermarks(
    s: Settings, tps: list[tuple[str, int]], timeout: float
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    admin = admin_client(s)
    ends_req = {TopicPartition(t, p): OffsetSpec.latest() for t, p in tps}
    starts_req = {TopicPartition(t, p): OffsetSpec.earliest() for t, p in tps}
    ends = {
        (tp.topic, tp.partition): f.result().offset
        for tp, f in admin.list_offsets(ends_req, request_timeout=timeout).items()
    }
    starts = {
        (tp.topic, tp.partition): f.result().offset
        for tp, f in admin.list_offsets(starts_req, request_timeout=timeout).items()
    }
    return ends, starts


def pipeline_lag(s: Settings) -> int:
    """Records published to the check-in path and not yet processed (all its groups)."""
    from truyvet.topics import pipeline_groups

    return sum(p.lag for group, topics in pipeline_groups(s).items()
               for p in group_lag(s, group, topics))
