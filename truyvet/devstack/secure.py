"""The local stack, secured: what ``truyvet stack up --secure`` runs and hands out.

Kafka listens for clients on SASL_SSL (SCRAM-SHA-512 over TLS) only; brokers talk to each other
and to the controllers over TLS with client certificates (the brokers' certificate is their
principal, a super user); ``StandardAuthorizer`` refuses whatever no ACL allows. An ``admin``
user is made when the storage is formatted (KRaft keeps SCRAM credentials in its metadata, so
the first one must be there before the brokers start); the roles' users and ACLs are then made
through the admin API (``truyvet.kafka.security``). Redis listens on TLS only and knows one user,
the API's, limited to this deployment's keys and channels (:meth:`SecureStack.redis_acl`).

Under ``DATA_DIR/secure/``: ``tls/`` (``truyvet.devstack.tls``) and ``passwords.json`` (0600):
the admin's, each role's and Redis's. :meth:`SecureStack.settings` gives the settings of a
role: the same as the process's, with its credentials -- what an operator would put in each
process's environment (:meth:`SecureStack.env`).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from truyvet.devstack.tls import BROKER_DN, Certificates, make_certificates
from truyvet.kafka.security import ROLES, user_of
from truyvet.secret_file import read_private, write_private
from truyvet.settings import Settings

BROKER_PORT_OFFSET = 200  # the brokers' own listener: client port + 200
SCRAM = "SCRAM-SHA-512"
ADMIN_USER = "truyvet-admin"  # a super user, whatever the deployment's topic prefix


class SecureStack:
    def __init__(self, s: Settings) -> None:
        self.s = s
        self.dir = s.data_dir / "secure"
        self._certs: Certificates | None = None

    @property
    def certs(self) -> Certificates:
        if self._certs is None:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._certs = make_certificates(self.dir / "tls")
        return self._certs

    def passwords(self) -> dict[str, str]:
        """admin, each role and redis -> its password (made once, 0600 from the start)."""
        path = self.dir / "passwords.json"
        if not path.exists():
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            made = {name: secrets.token_urlsafe(24) for name in ("admin", *ROLES, "redis")}
            write_private(path, json.dumps(made))
        return json.loads(read_private(path))

    # --- Kafka -----------------------------------------------------------------------------
    def admin_user(self) -> str:
        return ADMIN_USER

    def broker_properties(self, client: int, controller: int) -> dict[str, Any]:
        """What a node's server.properties adds (or replaces) to be secured."""
        certs, host = self.certs, "127.0.0.1"
        broker = client + BROKER_PORT_OFFSET
        return {
            "listeners": f"SASL_SSL://{host}:{client},BROKER://{host}:{broker},"
                         f"CONTROLLER://{host}:{controller}",
            "advertised.listeners": f"SASL_SSL://{host}:{client},BROKER://{host}:{broker}",
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,BROKER:SSL,CONTROLLER:SSL",
            "inter.broker.listener.name": "BROKER",
            "sasl.enabled.mechanisms": SCRAM,
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": certs.keystore,
            "ssl.keystore.password": certs.password,
            "ssl.key.password": certs.password,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": certs.ca,
            "listener.name.broker.ssl.client.auth": "required",
            "listener.name.controller.ssl.client.auth": "required",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{BROKER_DN};User:{self.admin_user()}",
            "allow.everyone.if.no.acl.found": "false",
        }

    def format_arguments(self) -> list[str]:
        """``kafka-storage format`` arguments that make the admin user with the storage."""
        return ["--add-scram",
                f"{SCRAM}=[name={self.admin_user()},password={self.passwords()['admin']}]"]

    # --- clients -----------------------------------------------------------------------------
    def kafka_env(self, who: str) -> dict[str, str]:
        """The environment of a client authenticating as ``who`` (admin or a role)."""
        name = self.admin_user() if who == "admin" else user_of(self.s, who)
        return {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": SCRAM,
                "KAFKA_SASL_USERNAME": name, "KAFKA_SASL_PASSWORD": self.passwords()[who],
                "KAFKA_SSL_CA_LOCATION": str(self.certs.ca)}

    def redis_user(self) -> str:
        return f"{self.s.topic_prefix}-api"

    def redis_acl(self) -> list[str]:
        """Redis's users: the default one off; the API's may use this deployment's keys and
        channels only, and no dangerous command (FLUSHALL, KEYS, CONFIG, ...)."""
        p = self.s.topic_prefix
        return ["user default off",
                f"user {self.redis_user()} on >{self.passwords()['redis']} ~{p}:* &{p}:* "
                f"+@all -@dangerous"]

    def redis_url(self, port: int) -> str:
        return (f"rediss://{self.redis_user()}:{self.passwords()['redis']}@127.0.0.1:{port}/0"
                f"?ssl_ca_certs={self.certs.ca}")

    def env(self, who: str) -> dict[str, str]:
        """Everything a process of ``who`` needs: Kafka's credentials and Redis's URL."""
        return {**self.kafka_env(who), "REDIS_URL": self.redis_url(self.s.redis_port)}

    def write_env_files(self) -> dict[str, Path]:
        """``DATA_DIR/secure/<who>.env`` (0600) for admin and each role: the variables to put
        in that process's environment."""
        out = {}
        for who in ("admin", *ROLES):
            path = self.dir / f"{who}.env"
            lines = [f"{k}={v}\n" for k, v in self.env(who).items()]
            lines.append(f"TRUYVET_MANAGE_TOPICS={'true' if who == 'admin' else 'false'}\n")
            write_private(path, "".join(lines))
            out[who] = path
        return out

    def settings(self, who: str) -> Settings:
        """These settings, authenticating as ``who``."""
        env = self.env(who)
        return self.s.replace(
            kafka_security_protocol=env["KAFKA_SECURITY_PROTOCOL"],
            kafka_sasl_mechanism=env["KAFKA_SASL_MECHANISM"],
            kafka_sasl_username=env["KAFKA_SASL_USERNAME"],
            kafka_sasl_password=env["KAFKA_SASL_PASSWORD"],
            kafka_ssl_ca_location=env["KAFKA_SSL_CA_LOCATION"],
            redis_url=env["REDIS_URL"], manage_topics=(who == "admin"))
