"""librdkafka's own log lines go through Python logging (logger ``librdkafka``), formatted and
filtered like every other line, instead of being printed to stderr between a command's output
(``make run`` showed ``%6|...|BGQUEUE| Purging 1 unserved events`` among its status lines)."""

from __future__ import annotations

import logging
import socket

import pytest

from truyvet.kafka.confluent import ConfluentProducer
from truyvet.kafka.config import LIBRDKAFKA_LOG, route_librdkafka_logs
from truyvet.settings import Settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nobody listens there once closed


def test_librdkafka_lines_are_python_log_records_not_stderr(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=f"127.0.0.1:{_closed_port()}")
    route_librdkafka_logs(logging.INFO)
    assert LIBRDKAFKA_LOG.level == logging.WARNING  # its notices: only when debugging
    with caplog.at_level(logging.WARNING, logger="librdkafka"):
        producer = ConfluentProducer(s, "log-test", **{"message.timeout.ms": 1500})
        producer.produce("t", b"k", b"v")
        for _ in range(30):  # connection refused, reported on the producer's poll
            producer.poll(0.1)
            if caplog.records:
                break
        producer.flush(3)
    assert any(r.name == "librdkafka" and "Connection refused" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
    err = capfd.readouterr().err
    assert "%3|" not in err and "%4|" not in err
    route_librdkafka_logs(logging.DEBUG)
    assert LIBRDKAFKA_LOG.level == logging.DEBUG
