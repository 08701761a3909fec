"""Reaching the cluster, and the topics of the catalogue, through Kafka's admin API.

:func:`connect` fails in one sentence: the cluster did not answer (where, what to check), or
it refused who we are (credentials, TLS) -- never a librdkafka traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sized

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    ClusterMetadata,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from truyvet.kafka.config import librdkafka
from truyvet.kafka.retry import BROKER_AWAY_S, is_transient
from truyvet.settings import Settings
from truyvet.topics import TopicSpec, catalogue

log = logging.getLogger(__name__)


class BrokerUnreachable(RuntimeError):
    """Kafka did not answer: said in one sentence, with what to check."""


class BrokerRefused(RuntimeError):
    """Kafka answered but refused us (credentials, TLS, rights, topics missing): one sentence."""


REFUSALS = frozenset({KafkaError._AUTHENTICATION, KafkaError._SSL,
                      KafkaError.SASL_AUTHENTICATION_FAILED})


def admin_client(s: Settings) -> AdminClient:
    return AdminClient(librdkafka(s, **{"socket.timeout.ms": 10_000}))


def connect(s: Settings, timeout: float = 30.0) -> tuple[AdminClient, ClusterMetadata]:
    """An admin client and the cluster's metadata; :class:`BrokerRefused` as soon as the
    cluster refuses our credentials or TLS, :class:`BrokerUnreachable` after ``timeout``."""
    refused: list[KafkaError] = []
    admin = AdminClient(librdkafka(s, **{  # its refusals are said by the exception, once
        "socket.timeout.ms": 10_000, "log_level": 2,
        "error_cb": lambda err: refused.append(err) if err.code() in REFUSALS else None}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            return admin, admin.list_topics(timeout=max(0.1, min(2.0, deadline - time.monotonic())))
        except KafkaException as exc:
            admin.poll(0)  # serve the error callbacks
            if refused:
                raise BrokerRefused(
                    f"Kafka at {s.bootstrap_servers} refused the connection "
                    f"({refused[0].str()}). Check KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD, "
                    f"KAFKA_SECURITY_PROTOCOL ({s.kafka_security_protocol}) and "
                    f"KAFKA_SSL_CA_LOCATION.") from None
            if time.monotonic() >= deadline:
                raise BrokerUnreachable(
                    f"Kafka at {s.bootstrap_servers} did not answer within {timeout:.0f} s "
                    f"({exc.args[0].str()}). Is it running? Check --bootstrap-servers / "
                    f"KAFKA_BOOTSTRAP_SERVERS (unset: the local broker that `truyvet run` or "
                    f"`truyvet stack up` starts), and that KAFKA_SECURITY_PROTOCOL "
                    f"({s.kafka_security_protocol}) is what its listener speaks.") from None


def brokers_answering(s: Settings, timeout: float = 2.0) -> int:
    """How many brokers the cluster's metadata lists now (a local stack's readiness probe:
    quiet about the connections refused while the brokers start)."""
    admin = AdminClient(librdkafka(s, **{"socket.connection.setup.timeout.ms": 1000,
                                         "log_level": 2}))
    return len(admin.list_topics(timeout=timeout).brokers)


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
    admin, meta = connect(s, timeout)
    if not s.manage_topics:  # a principal without the rights: check, change nothing
        absent = [spec.name for spec in specs
                  if spec.name not in meta.topics or meta.topics[spec.name].error is not None]
        if absent:
            raise BrokerRefused(
                f"topics missing or not visible to {s.kafka_sasl_username or 'this principal'}: "
                f"{', '.join(absent[:4])}{' ...' if len(absent) > 4 else ''}; the cluster's "
                f"admin makes them (`truyvet stack up`, TRUYVET_MANAGE_TOPICS=true) and grants "
                f"them (truyvet.kafka.security)")
        return []
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
        except (BrokerUnreachable, TimeoutError, KafkaException) as exc:  # not BrokerRefused
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
