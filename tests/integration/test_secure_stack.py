"""The secured local stack (`truyvet stack up --secure`): Kafka on SASL_SSL (SCRAM-SHA-512) with
`StandardAuthorizer` and one principal per role, Redis with a password on TLS. The pipeline
answers on it as on PLAINTEXT, each process with its own least-privilege principal; wrong or
missing credentials end in one line; the scanner principal can neither read what the pipeline
derives nor forge what it publishes; Redis refuses whoever has no password or no TLS."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.conftest import Services, free_base, own_settings
from tests.integration.helpers import (
    api_process,
    http_json,
    read_all,
    wait_caught_up,
    wait_index_caught_up,
    worker_process,
)
from tests.integration.test_matching_pipeline import _body, _expected, _generate, _publish
from tests.reference import reference_visits
from truyvet import topics
from truyvet.cli import stack
from truyvet.devstack.secure import BROKER_PORT_OFFSET, SecureStack
from truyvet.kafka.config import librdkafka
from truyvet.kafka.producer import DurableProducer
from truyvet.settings import Settings

pytestmark = [pytest.mark.timeout(600)]


@dataclass(frozen=True)
class Secured:
    base: Settings  # the stack's settings, no credentials
    stack: SecureStack

    def role(self, who: str) -> Settings:
        return self.stack.settings(who)


@pytest.fixture(scope="module")
def secured(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    tmp = tmp_path_factory.mktemp("secure")
    base = own_settings(services, tmp, bootstrap_servers="", redis_url="",
                        kafka_port=free_base((0, 100, BROKER_PORT_OFFSET)),
                        redis_port=free_base((0,)))
    try:
        stack.up(base, secure=True)
        yield Secured(base, SecureStack(base))
    finally:
        stack.down(base, secure=True)


def test_the_pipeline_answers_as_on_plaintext(secured: Secured, tmp_path: Path) -> None:
    """The same scenario as test_matching_pipeline: scans published as the scanner, the worker
    and the API each as their own principal; every answer equals the reference."""
    worker, api, scanner = (secured.role(w) for w in ("worker", "api", "scanner"))
    rng = random.Random(12)
    now = int(time.time())
    arrival, itineraries = _generate(rng, "sec", now)
    _publish(scanner, arrival)
    with worker_process(worker, tmp_path / "worker.log") as w, \
            api_process(api, tmp_path / "api.log"):
        wait_caught_up(secured.role("admin"), 90, [w])
        wait_index_caught_up(api)
        visits = reference_visits(arrival, lambda v: 3600, now, int(api.retention_days * 86_400))
        for case_id, card, stops in itineraries:
            status, body = http_json(api, "POST", "/api/v1/itineraries?contacts=all",
                                     _body(case_id, card, stops))
            assert status == 201, body
            got = [{"verified": s["verified"], "gap": s["gap"], "contacts": s["contacts"]}
                   for s in body["stops"]]  # type: ignore[index]
            assert got == _expected(visits, card, stops)
        stored = list(redis.Redis.from_url(api.redis_url).scan_iter(f"{api.topic_prefix}:result:*"))
        assert len(stored) == len(itineraries)  # the results reached the secured Redis
    log = (tmp_path / "worker.log").read_text() + (tmp_path / "api.log").read_text()
    assert "AUTHORIZATION_FAILED" not in log and "authorization failed" not in log.lower()


def _cli(s: Settings, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    return subprocess.run([sys.executable, "-m", "truyvet", *args], capture_output=True,
                          text=True, timeout=120,
                          env={**base, "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap_servers, **env})


def test_wrong_or_no_credentials_end_in_one_line(secured: Secured) -> None:
    s = secured.role("worker")
    wrong = {**secured.stack.kafka_env("worker"), "KAFKA_SASL_PASSWORD": "not-the-password"}
    done = _cli(s, "status", env=wrong)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "refused the connection" in line and "invalid credentials" in line
    assert "not-the-password" not in done.stderr + done.stdout  # a secret is never printed
    none = _cli(s, "status", env={})  # PLAINTEXT against a SASL_SSL listener
    assert none.returncode == 1 and "Traceback" not in none.stderr
    [line] = none.stderr.strip().splitlines()
    assert "did not answer" in line and "KAFKA_SECURITY_PROTOCOL (PLAINTEXT)" in line
    missing = _cli(s, "status", env={"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD" in missing.stderr


def test_the_scanner_can_only_write_scans(secured: Secured) -> None:
    scanner, admin = secured.role("scanner"), secured.role("admin")
    producer = DurableProducer(scanner, "forger")
    producer.send(topics.checkins(scanner), b"V", b'{"a scan": true}')
    for forged in (topics.alerts(scanner), topics.visits(scanner), topics.match_results(scanner)):
        producer.send(forged, b"V", b"forged")
    assert producer.flush(60) == 0
    assert producer.stats.delivered == 1
    assert sorted(f.topic for f in producer.stats.failures) == sorted(
        [topics.alerts(scanner), topics.visits(scanner), topics.match_results(scanner)])
    assert all("authorization failed" in f.error.lower() for f in producer.stats.failures)
    assert not [r for r in read_all(admin, topics.alerts(admin)) if r.value == b"forged"]

    from confluent_kafka import Consumer  # a plain client: the broker refuses, not truyvet

    c = Consumer(librdkafka(scanner, **{"group.id": f"{scanner.topic_prefix}-spy",
                                        "auto.offset.reset": "earliest", "log_level": 0}))
    c.subscribe([topics.visits(scanner), topics.match_results(scanner), topics.checkins(scanner)])
    errors, records = set(), 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not errors:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            errors.add(m.error().name())
        else:
            records += 1
    c.close()
    assert records == 0 and errors & {"GROUP_AUTHORIZATION_FAILED", "TOPIC_AUTHORIZATION_FAILED"}


def test_redis_wants_its_user_and_tls_and_keeps_it_to_its_keys(secured: Secured) -> None:
    url = secured.role("api").redis_url
    prefix = secured.base.topic_prefix
    r = redis.Redis.from_url(url)
    assert r.ping() and r.set(f"{prefix}:result:probe", b"x")
    with pytest.raises(redis.exceptions.NoPermissionError):
        r.set("someone-else:key", b"x")  # another deployment's keys
    with pytest.raises(redis.exceptions.NoPermissionError):
        r.flushall()  # a dangerous command
    password = secured.stack.passwords()["redis"]
    with pytest.raises(redis.AuthenticationError):  # the default user is off
        redis.Redis.from_url(url.replace(f"{secured.stack.redis_user()}:", ":")).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(url.replace(password, "not-it")).ping()
    with pytest.raises(redis.ConnectionError):  # no TLS: the server does not speak plain Redis
        redis.Redis(host="127.0.0.1", port=secured.base.redis_port, socket_timeout=3,
                    username=secured.stack.redis_user(), password=password).ping()


def test_secrets_are_readable_by_their_owner_only(secured: Secured) -> None:
    d = secured.stack.dir
    secret = [d / "passwords.json", *d.glob("*.env"), d / "tls" / "ca.key",
              d / "tls" / "server.key", d / "tls" / "broker.p12", d / "tls" / "store-password",
              secured.base.data_dir / "redis-secure" / "redis.conf"]
    assert len(secret) >= 10
    for path in secret:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
    pw = secured.stack.passwords()["redis"]
    for proc in Path("/proc").glob("[0-9]*"):  # the Redis password is on no command line
        try:
            assert pw not in (proc / "cmdline").read_bytes().decode(errors="replace")
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
