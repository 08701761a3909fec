"""Waiting out a broker that is briefly away (restarting, electing a leader, moving a group
coordinator) instead of failing: blocking client calls retried while the error is transient."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from confluent_kafka import KafkaError, KafkaException

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a backend call raises when the cluster refuses it or is away (code outside this package
# catches this name; it never imports the client library).
BrokerError = KafkaException

# How long a stream job waits for the brokers before it gives up and stops (its supervisor
# then restarts it): longer than a broker restart, shorter than an operator's patience.
BROKER_AWAY_S = 300.0

# Errors that go away by themselves when brokers come back or leadership settles. librdkafka
# marks few of them retriable (not "all brokers down", for instance).
TRANSIENT = frozenset({
    KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
    KafkaError._TIMED_OUT_QUEUE, KafkaError._RESOLVE, KafkaError._NODE_UPDATE,
    # a request in flight to a broker that left the cluster's metadata (seen when a
    # 3-node cluster's leader was killed while a job rebuilt its state)
    KafkaError._DESTROY_BROKER,
    KafkaError._WAIT_COORD, KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.REQUEST_TIMED_OUT, KafkaError.NETWORK_EXCEPTION,
})


def is_transient(err: KafkaError) -> bool:
    return err.retriable() or err.code() in TRANSIENT


def retrying(call: Callable[[], T], what: str, timeout: float) -> T:
    """``call()``, again every half second while it fails transiently, for up to ``timeout``."""
    deadline = time.monotonic() + timeout
    warned = False
    while True:
        try:
            return call()
        except KafkaException as exc:
            err = exc.args[0]
            if not isinstance(err, KafkaError) or not is_transient(err) \
                    or time.monotonic() > deadline:
                raise
            if not warned:
                log.warning("%s: %s; retrying for up to %.0fs", what, err.str(), timeout)
                warned = True
            time.sleep(0.5)
