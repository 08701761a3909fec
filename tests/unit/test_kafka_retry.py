"""Blocking Kafka calls wait out a broker that is away, and only that."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from truyvet.kafka.retry import retrying


def _failing(codes: list[int]):
    calls = []

    def call() -> str:
        calls.append(1)
        if codes:
            raise KafkaException(KafkaError(codes.pop(0)))
        return "ok"
    return call, calls


@pytest.mark.parametrize("code", [KafkaError._ALL_BROKERS_DOWN, KafkaError._DESTROY_BROKER,
                                  KafkaError._TRANSPORT, KafkaError.NOT_LEADER_FOR_PARTITION,
                                  KafkaError.COORDINATOR_NOT_AVAILABLE])
def test_transient_errors_are_waited_out(code: int) -> None:
    call, calls = _failing([code, code])
    assert retrying(call, "test", timeout=10) == "ok"
    assert len(calls) == 3


def test_other_errors_are_raised_at_once() -> None:
    call, calls = _failing([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(KafkaException):
        retrying(call, "test", timeout=10)
    assert len(calls) == 1


def test_a_broker_away_longer_than_the_timeout_is_an_error() -> None:
    call, calls = _failing([KafkaError._ALL_BROKERS_DOWN] * 100)
    with pytest.raises(KafkaException):
        retrying(call, "test", timeout=0.6)
    assert 2 <= len(calls) <= 3
