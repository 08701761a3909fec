"""Certificates for the local secured stack, made with openssl and keytool: a certificate
authority, and one key pair it signs for the brokers (and Redis), valid for 127.0.0.1 and
localhost.

Under ``<dir>``: ``ca.pem`` (what clients trust: ``KAFKA_SSL_CA_LOCATION``, Redis's
``ssl_ca_certs``), ``ca.key``; ``broker.p12`` (the brokers' PKCS12 keystore, CN=truyvet-broker,
which is also how brokers authenticate to each other and to the controllers: mutual TLS);
``server.pem`` / ``server.key`` (the same identity as PEM, for redis-server). Made once; the
passwords are in ``store-password`` (0600). Private keys are written readable by their owner
only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from truyvet.secret_file import write_private

BROKER_DN = "CN=truyvet-broker"
DAYS = "3650"
STOREPASS = ("-storepass:env", "TRUYVET_STORE_PASSWORD")


@dataclass(frozen=True)
class Certificates:
    dir: Path

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.dir / "broker.p12"

    @property
    def server_cert(self) -> Path:
        return self.dir / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.dir / "server.key"

    @property
    def password(self) -> str:
        return (self.dir / "store-password").read_text().strip()


def make_certificates(dir: Path) -> Certificates:
    """The CA and the brokers' keystore, made if missing (idempotent)."""
    certs = Certificates(dir)
    if (dir / ".complete").exists():
        return certs
    for tool in ("openssl", "keytool"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"the secured stack needs {tool} (apt-get install -y "
                               f"{'openssl' if tool == 'openssl' else 'openjdk-17-jre-headless'})")
    shutil.rmtree(dir, ignore_errors=True)
    dir.mkdir(parents=True, mode=0o700)  # what openssl and keytool write is private from the start
    # hex: a password that starts with "-J" is taken by keytool's launcher for a JVM option
    # (seen once in CI: "Could not find or load main class ..."); and it is handed over in
    # the environment, not on a command line every user of the machine can read
    password = secrets.token_hex(24)
    write_private(dir / "store-password", password)
    run = _runner(dir, {"TRUYVET_STORE_PASSWORD": password})
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", DAYS, "-subj", "/CN=truyvet-local-ca")
    san = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    run("keytool", "-genkeypair", "-keystore", "broker.p12", "-storetype", "PKCS12",
        "-alias", "broker", "-dname", BROKER_DN, "-ext", "SAN=IP:127.0.0.1,DNS:localhost",
        "-keyalg", "RSA", "-keysize", "2048", "-validity", DAYS, *STOREPASS,
        "-keypass:env", "TRUYVET_STORE_PASSWORD")
    run("keytool", "-certreq", "-keystore", "broker.p12", "-alias", "broker", "-file",
        "broker.csr", *STOREPASS)
    (dir / "san.ext").write_text(san + "\n")
    run("openssl", "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "broker.pem", "-days", DAYS, "-extfile", "san.ext")
    for alias, file in (("ca", "ca.pem"), ("broker", "broker.pem")):
        run("keytool", "-importcert", "-noprompt", "-keystore", "broker.p12", "-alias", alias,
            "-file", file, *STOREPASS)
    # the same identity as PEM for redis-server (which reads neither PKCS12 nor keytool's stores)
    run("openssl", "pkcs12", "-in", "broker.p12", "-nocerts", "-nodes", "-out", "server.key",
        "-passin", "env:TRUYVET_STORE_PASSWORD")
    shutil.copy(dir / "broker.pem", dir / "server.pem")
    for key in ("ca.key", "server.key", "broker.p12"):
        os.chmod(dir / key, 0o600)
    (dir / ".complete").touch()
    return certs


def _runner(cwd: Path, secrets_env: dict[str, str]):  # type: ignore[no-untyped-def]
    env = {**os.environ, **secrets_env}

    def run(*argv: str) -> None:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            said = (done.stderr.strip() or done.stdout.strip())[-300:]  # keytool says it on stdout
            raise RuntimeError(f"{argv[0]} {argv[1]} failed: {said}")
    return run
