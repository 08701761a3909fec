"""How every Kafka client of a process is configured, from its settings, in one place.

:func:`connection` says where the cluster is and how to authenticate (TLS, SASL); each client
library gets it in its own dialect: librdkafka's configuration for confluent-kafka's
consumers, producers and admin clients (:func:`librdkafka`), aiokafka's keyword arguments
(:func:`aiokafka`) and faust's broker list (:func:`faust_brokers`; faust's credentials are
made from :func:`connection` and :func:`ssl_context` where the faust app is). librdkafka's own log lines
go through Python's logging (logger ``librdkafka``), so that they are formatted, filtered and
placed like every other line: its notices (levels 5 and 6, such as ``BGQUEUE Purging unserved
events`` when a client closes) only at ``--log-level debug``, its warnings and errors always.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from truyvet.settings import Settings

LIBRDKAFKA_LOG = logging.getLogger("librdkafka")


@dataclass(frozen=True)
class Connection:
    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_ca_location: str = ""
    ssl_certificate_location: str = ""
    ssl_key_location: str = ""
    ssl_key_password: str = field(default="", repr=False)

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")


def connection(s: Settings) -> Connection:
    """Where the cluster is and how to prove who we are: the one function every Kafka client
    of truyvet is configured from."""
    return Connection(s.bootstrap_servers, s.kafka_security_protocol,
                      s.kafka_sasl_mechanism if s.kafka_security_protocol.startswith("SASL_") else "",
                      s.kafka_sasl_username, s.kafka_sasl_password, s.kafka_ssl_ca_location,
                      s.kafka_ssl_certificate_location, s.kafka_ssl_key_location,
                      s.kafka_ssl_key_password)


def librdkafka(s: Settings, client_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The configuration of a confluent-kafka client: connection, logging, then ``overrides``."""
    c = connection(s)
    out: dict[str, Any] = {"bootstrap.servers": c.bootstrap_servers, "logger": LIBRDKAFKA_LOG,
                           "security.protocol": c.security_protocol.lower()}
    if c.sasl:
        out.update({"sasl.mechanism": c.sasl_mechanism, "sasl.username": c.sasl_username,
                    "sasl.password": c.sasl_password})
    for key, value in (("ssl.ca.location", c.ssl_ca_location),
                       ("ssl.certificate.location", c.ssl_certificate_location),
                       ("ssl.key.location", c.ssl_key_location),
                       ("ssl.key.password", c.ssl_key_password)):
        if c.tls and value:
            out[key] = value
    if client_id is not None:
        out["client.id"] = client_id
    out.update(overrides)
    return out


def ssl_context(s: Settings) -> ssl.SSLContext | None:
    """The TLS context of a Python client (aiokafka, faust); None without TLS."""
    c = connection(s)
    if not c.tls:
        return None
    context = ssl.create_default_context(cafile=c.ssl_ca_location or None)
    if c.ssl_certificate_location:
        context.load_cert_chain(c.ssl_certificate_location, c.ssl_key_location or None,
                                c.ssl_key_password or None)
    return context


def aiokafka(s: Settings) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client."""
    c = connection(s)
    out: dict[str, Any] = {"bootstrap_servers": c.bootstrap_servers,
                           "security_protocol": c.security_protocol}
    if c.sasl:
        out.update(sasl_mechanism=c.sasl_mechanism, sasl_plain_username=c.sasl_username,
                   sasl_plain_password=c.sasl_password)
    if c.tls:
        out["ssl_context"] = ssl_context(s)
    return out


def faust_brokers(s: Settings) -> list[str]:
    """faust's ``broker`` setting."""
    return [f"kafka://{hp.strip()}" for hp in connection(s).bootstrap_servers.split(",")]


def route_librdkafka_logs(level: int) -> None:
    """Show librdkafka's lines at ``level`` (Python's): its notices only when debugging."""
    LIBRDKAFKA_LOG.setLevel(logging.DEBUG if level <= logging.DEBUG else max(level, logging.WARNING))
