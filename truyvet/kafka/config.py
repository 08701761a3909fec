"""How every Kafka client of a process is configured, from its settings, in one place.

:func:`connection` says where the cluster is (and, later, how to authenticate); each client
library gets it in its own dialect: librdkafka's configuration for confluent-kafka's
consumers, producers and admin clients (:func:`librdkafka`), aiokafka's keyword arguments
(:func:`aiokafka`) and faust's broker list (:func:`faust_brokers`). librdkafka's own log lines
go through Python's logging (logger ``librdkafka``), so that they are formatted, filtered and
placed like every other line: its notices (levels 5 and 6, such as ``BGQUEUE Purging unserved
events`` when a client closes) only at ``--log-level debug``, its warnings and errors always.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from truyvet.settings import Settings

LIBRDKAFKA_LOG = logging.getLogger("librdkafka")


@dataclass(frozen=True)
class Connection:
    bootstrap_servers: str


def connection(s: Settings) -> Connection:
    return Connection(s.bootstrap_servers)


def librdkafka(s: Settings, client_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The configuration of a confluent-kafka client: connection, logging, then ``overrides``."""
    c = connection(s)
    out: dict[str, Any] = {"bootstrap.servers": c.bootstrap_servers, "logger": LIBRDKAFKA_LOG}
    if client_id is not None:
        out["client.id"] = client_id
    out.update(overrides)
    return out


def aiokafka(s: Settings) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client."""
    return {"bootstrap_servers": connection(s).bootstrap_servers}


def faust_brokers(s: Settings) -> list[str]:
    """faust's ``broker`` setting."""
    return [f"kafka://{hp.strip()}" for hp in connection(s).bootstrap_servers.split(",")]


def route_librdkafka_logs(level: int) -> None:
    """Show librdkafka's lines at ``level`` (Python's): its notices only when debugging."""
    LIBRDKAFKA_LOG.setLevel(logging.DEBUG if level <= logging.DEBUG else max(level, logging.WARNING))
