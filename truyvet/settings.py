"""One typed settings object for every truyvet process.

Each field names the environment variable it is read from; the CLI turns fields into flags
(``--bootstrap-servers`` <-> ``KAFKA_BOOTSTRAP_SERVERS``) with :func:`options`, so a flag and
its variable always mean the same thing and ``--help`` shows both. Secrets are marked and
never printed (:meth:`Settings.redacted`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import click

from truyvet.domain.clusters import Window, parse_window
from truyvet.domain.matching.rules import MatchRules, parse_dwell
from truyvet.secret_file import new_token, read_private, write_private

ROOT = Path(__file__).resolve().parent.parent
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class SettingsError(ValueError):
    """Settings that cannot work together: said in one sentence, naming the variables."""


def _setting(env: str, default: Any, help: str, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"env": env, "help": help, "secret": secret})


@dataclass(frozen=True)
class Settings:
    # --- where the services are --------------------------------------------------------
    bootstrap_servers: str = _setting(
        "KAFKA_BOOTSTRAP_SERVERS", "",
        "An existing Kafka cluster (host:port[,...]). Unset: the local stack's broker is used"
        " (and started by `truyvet run` and the tests) on --kafka-port.",
    )
    redis_url: str = _setting(
        "REDIS_URL", "",
        "An existing Redis (redis://host:port/db). Unset: the local stack's redis-server is used"
        " on --redis-port.",
    )
    kafka_port: int = _setting(
        "TRUYVET_KAFKA_PORT", 19092,
        "Client port of the local broker (node i of a local cluster: port + i; controllers: +100).",
    )
    redis_port: int = _setting("TRUYVET_REDIS_PORT", 16379, "Port of the local redis-server.")
    # --- Kafka security (every client: truyvet.kafka.config) ---------------------------------
    kafka_security_protocol: str = _setting(
        "KAFKA_SECURITY_PROTOCOL", "PLAINTEXT",
        "How clients reach Kafka: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
    )
    kafka_sasl_mechanism: str = _setting(
        "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
        "SASL mechanism (with SASL_*): SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN.",
    )
    kafka_sasl_username: str = _setting("KAFKA_SASL_USERNAME", "", "SASL user (with SASL_*).")
    kafka_sasl_password: str = _setting(
        "KAFKA_SASL_PASSWORD", "", "SASL password (with SASL_*).", secret=True,
    )
    kafka_ssl_ca_location: str = _setting(
        "KAFKA_SSL_CA_LOCATION", "",
        "PEM file of the CA(s) that signed the brokers' certificates (with SSL, SASL_SSL); unset:"
        " the system's.",
    )
    kafka_ssl_certificate_location: str = _setting(
        "KAFKA_SSL_CERTIFICATE_LOCATION", "", "Client certificate (PEM), for mutual TLS.",
    )
    kafka_ssl_key_location: str = _setting(
        "KAFKA_SSL_KEY_LOCATION", "", "Client private key (PEM), for mutual TLS.",
    )
    kafka_ssl_key_password: str = _setting(
        "KAFKA_SSL_KEY_PASSWORD", "", "Password of the client private key.", secret=True,
    )
    manage_topics: bool = _setting(
        "TRUYVET_MANAGE_TOPICS", True,
        "At start, create missing topics and align their configuration with the catalogue; off "
        "for principals without those rights (a secured cluster's roles): the topics are then "
        "only checked.",
    )
    # --- topics ----------------------------------------------------------------------------
    topic_prefix: str = _setting(
        "TRUYVET_TOPIC_PREFIX", "truyvet", "Prefix of every topic and consumer group name."
    )
    checkin_partitions: int = _setting(
        "TRUYVET_CHECKIN_PARTITIONS", 12,
        "Partitions of the check-in topics (the unit of parallelism of the stream jobs).",
    )
    retention_days: float = _setting(
        "TRUYVET_RETENTION_DAYS", 21.0, "How long scans and everything derived from them are kept."
    )
    replication_factor: int = _setting(
        "TRUYVET_REPLICATION_FACTOR", 0,
        "Replication factor for new topics; 0 = min(3, brokers in the cluster).",
    )
    # --- ingest rules ------------------------------------------------------------------------
    max_future_skew_s: int = _setting(
        "TRUYVET_MAX_FUTURE_SKEW_S", 3600,
        "A scan time further than this ahead of the worker's clock is refused (scanner clock wrong).",
    )
    dlq_max_share: float = _setting(
        "TRUYVET_DLQ_MAX_SHARE", 0.5,
        "A stream job stops when more than this share of its last 10,000 inputs was dead-lettered "
        "(1 = never).",
    )
    dlq_max_consecutive: int = _setting(
        "TRUYVET_DLQ_MAX_CONSECUTIVE", 1000,
        "A stream job stops when more than this many inputs in a row of one partition were "
        "dead-lettered (0 = never).",
    )
    # --- matching contract -----------------------------------------------------------------
    dwell_minutes: str = _setting(
        "TRUYVET_DWELL_MINUTES", "60",
        "How long an open visit lasts without an exit scan, in minutes: '60', or per venue"
        " category as '60,office=540,hotel=720' (categories from the venue registry; an unknown"
        " one is refused). Off by default: longer dwells add contacts (docs/architecture.md).",
    )
    match_tolerance_s: int = _setting(
        "TRUYVET_MATCH_TOLERANCE_S", 1800,
        "A declared stop is verified by a visit of the card within this many seconds of it.",
    )
    close_contact_s: int = _setting(
        "TRUYVET_CLOSE_CONTACT_S", 900, "Overlap in seconds from which a contact is close."
    )
    cluster_window: str = _setting(
        "TRUYVET_CLUSTER_WINDOW", "day",
        "When two F0 cases' stops at one venue form a cluster (ổ dịch): 'day' (the same local"
        " day) or at most a duration apart ('90m', '2h'; '0m': overlapping).",
    )
    # --- local stack -----------------------------------------------------------------------
    data_dir: Path = _setting(
        "TRUYVET_DATA_DIR", ROOT / ".var", "Where the local stack keeps broker and Redis data and logs."
    )
    kafka_version: str = _setting("KAFKA_VERSION", "4.4.0", "Apache Kafka version the local stack runs.")
    kafka_heap: str = _setting("TRUYVET_KAFKA_HEAP", "512m", "Maximum JVM heap of each local broker.")
    # --- tracer API -------------------------------------------------------------------------
    api_host: str = _setting("TRUYVET_API_HOST", "127.0.0.1", "Address the tracer API listens on.")
    api_port: int = _setting("TRUYVET_API_PORT", 8080, "Port of the tracer API.")
    api_url: str = _setting(
        "TRUYVET_API_URL", "", "The tracer API, for clients (truyvet match); default from host/port."
    )
    api_token: str = _setting(
        "TRUYVET_API_TOKEN", "",
        "Bearer token with every role (admin). `truyvet run` makes one (DATA_DIR/api-token) if unset.",
        secret=True,
    )
    api_tokens: str = _setting(
        "TRUYVET_API_TOKENS", "",
        "Named principals with roles: name:role[+role]:token, comma-separated; roles tracer, "
        "supervisor, inspector, ops, admin (see api/access.py).",
        secret=True,
    )
    case_owner: str = _setting(
        "TRUYVET_CASE_OWNER", "tracer",
        "Who owns a case: the tracer who opened it (tracer), or that tracer's team (team: the "
        "fourth field of TRUYVET_API_TOKENS entries; a tracer without one owns alone).",
    )
    api_send_timeout_s: float = _setting(
        "TRUYVET_API_SEND_TIMEOUT_S", 10.0,
        "Longest a request waits for Kafka to acknowledge what it must record first (the "
        "itinerary, the audit record); then 503 with Retry-After.",
    )
    api_rate: float = _setting(
        "TRUYVET_API_RATE", 50.0,
        "Requests a second each principal may make (bursts of twice that); beyond: 429 with "
        "Retry-After. Failed token attempts are limited per client address likewise (a fifth).",
    )
    api_max_streams: int = _setting(
        "TRUYVET_API_MAX_STREAMS", 20,
        "Server-sent event streams each principal may hold open at once; beyond: 429.",
    )
    api_checkpoint_s: float = _setting(
        "TRUYVET_API_CHECKPOINT_S", 300.0,
        "Seconds between checkpoints of the API's visit index (also written after a rebuild, each "
        "retention sweep and on stop); a start loads it when valid and reads only what came "
        "after. 0 = none.",
    )
    match_threads: int = _setting(
        "TRUYVET_MATCH_THREADS", 1,
        "Threads that answer an itinerary's stops at once in the API. More pay only on cores "
        "free for them at that moment: the answer waits for its slowest thread.",
    )
    api_checkpoint_dir: str = _setting(
        "TRUYVET_API_CHECKPOINT_DIR", "",
        "Where the API keeps its checkpoint (local disk, private: it holds card ids); default "
        "DATA_DIR/checkpoints.",
    )
    # --- HTTP ------------------------------------------------------------------------------
    worker_web_port: int = _setting(
        "TRUYVET_WORKER_WEB_PORT", 6066,
        "Port of the stream worker's web server (/metrics); the next worker takes the next port.",
    )

    # True when the addresses above were not given, so the local stack serves them.
    local_kafka: bool = field(init=False, default=False)
    local_redis: bool = field(init=False, default=False)
    derived_api_url: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        protocol = self.kafka_security_protocol.upper()
        object.__setattr__(self, "kafka_security_protocol", protocol)
        if protocol not in PROTOCOLS:
            raise SettingsError(f"KAFKA_SECURITY_PROTOCOL={protocol!r}: one of {', '.join(PROTOCOLS)}")
        if protocol.startswith("SASL_"):
            if self.kafka_sasl_mechanism not in MECHANISMS:
                raise SettingsError(f"KAFKA_SASL_MECHANISM={self.kafka_sasl_mechanism!r}: one of "
                                    f"{', '.join(MECHANISMS)}")
            if not (self.kafka_sasl_username and self.kafka_sasl_password):
                raise SettingsError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME"
                                    " and KAFKA_SASL_PASSWORD")
        if self.case_owner not in ("tracer", "team"):
            raise SettingsError(f"TRUYVET_CASE_OWNER={self.case_owner!r}: tracer or team")
        for name, env in (("api_send_timeout_s", "TRUYVET_API_SEND_TIMEOUT_S"),
                          ("api_rate", "TRUYVET_API_RATE"), ("api_max_streams", "TRUYVET_API_MAX_STREAMS")):
            if not getattr(self, name) > 0:
                raise SettingsError(f"{env}={getattr(self, name)}: must be more than 0")
        try:
            parse_dwell(self.dwell_minutes)
        except ValueError as exc:
            raise SettingsError(f"TRUYVET_DWELL_MINUTES={self.dwell_minutes!r}: {exc}") from None
        try:
            parse_window(self.cluster_window)
        except ValueError as exc:
            raise SettingsError(f"TRUYVET_CLUSTER_WINDOW={self.cluster_window!r}: {exc}") from None
        if self.match_threads < 1:
            raise SettingsError(f"TRUYVET_MATCH_THREADS={self.match_threads}: 1 or more")
        if self.api_checkpoint_s < 0:
            raise SettingsError(f"TRUYVET_API_CHECKPOINT_S={self.api_checkpoint_s}: 0 (none) or more")
        if not self.bootstrap_servers:
            object.__setattr__(self, "local_kafka", True)
            object.__setattr__(self, "bootstrap_servers", f"127.0.0.1:{self.kafka_port}")
        if not self.redis_url:
            object.__setattr__(self, "local_redis", True)
            object.__setattr__(self, "redis_url", f"redis://127.0.0.1:{self.redis_port}/0")
        if not self.api_url:
            host = "127.0.0.1" if self.api_host in ("0.0.0.0", "") else self.api_host
            object.__setattr__(self, "api_url", f"http://{host}:{self.api_port}")
            object.__setattr__(self, "derived_api_url", True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from environment variables (``os.environ`` by default), then overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if not f.init:
                continue
            raw = env.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _convert(f, raw)
        values.update(overrides)
        return cls(**values)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}.{name}"

    @property
    def retention_ms(self) -> int:
        return int(self.retention_days * 86_400_000)

    @property
    def checkpoint_dir(self) -> Path:
        return Path(self.api_checkpoint_dir) if self.api_checkpoint_dir else self.data_dir / "checkpoints"

    def redacted(self) -> dict[str, Any]:
        return {
            f.name: "***" if f.metadata.get("secret") else getattr(self, f.name)
            for f in fields(self)
        }

    def rules(self) -> MatchRules:
        default_s, by_category = parse_dwell(self.dwell_minutes)
        return MatchRules(default_dwell_s=default_s, dwell_by_category_s=by_category,
                          tolerance_s=self.match_tolerance_s, close_contact_s=self.close_contact_s,
                          retention_s=int(self.retention_days * 86_400))

    def cluster_rule(self) -> Window:
        return parse_window(self.cluster_window)

    def to_env(self) -> dict[str, str]:
        """The environment variables that reproduce these settings in a child process."""
        derived = {"bootstrap_servers": self.local_kafka, "redis_url": self.local_redis,
                   "api_url": self.derived_api_url}
        return {
            f.metadata["env"]: str(getattr(self, f.name))
            for f in fields(self) if f.init and not derived.get(f.name)
        }

    def token(self, create: bool = False) -> str:
        """The API token: configured, or the local stack's own in DATA_DIR/api-token (made
        there, readable by its owner only, when ``create``)."""
        if self.api_token:
            return self.api_token
        path = self.data_dir / "api-token"
        if create and not path.exists():
            write_private(path, new_token())
        return read_private(path).strip() if path.exists() else ""

    def replace(self, **changes: Any) -> Settings:
        """A copy with changes; addresses the local stack filled in are re-derived."""
        if self.local_kafka and "bootstrap_servers" not in changes:
            changes["bootstrap_servers"] = ""
        if self.local_redis and "redis_url" not in changes:
            changes["redis_url"] = ""
        if self.derived_api_url and "api_url" not in changes:
            changes["api_url"] = ""
        return dataclasses.replace(self, **changes)


def _convert(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = _kind(f)
    if kind is bool:
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise click.BadParameter(f"{f.metadata['env']}={raw!r}: say true or false")
    try:
        return kind(raw)
    except ValueError as exc:
        raise click.BadParameter(f"{f.metadata['env']}={raw!r}: {exc}") from None


def _kind(f: dataclasses.Field[Any]) -> type:
    return {"str": str, "int": int, "float": float, "Path": Path, "bool": bool}[str(f.type)]


F = TypeVar("F", bound=Callable[..., Any])
KAFKA_SECURITY = ("kafka_security_protocol", "kafka_sasl_mechanism", "kafka_sasl_username",
                  "kafka_sasl_password", "kafka_ssl_ca_location", "kafka_ssl_certificate_location",
                  "kafka_ssl_key_location", "kafka_ssl_key_password", "manage_topics")


def options(*names: str) -> Callable[[F], F]:
    """Click options for the named settings; each mirrors its environment variable.

    The command receives them as keyword arguments; pass those to :func:`from_options`.
    """
    by_name = {f.name: f for f in fields(Settings)}
    if "bootstrap_servers" in names:  # every command that reaches Kafka: how to, securely
        names = (*names, *(n for n in KAFKA_SECURITY if n not in names))

    def decorate(func: F) -> F:
        for name in reversed(names):
            f = by_name[name]
            kind = _kind(f)
            func = click.option(
                "--" + name.replace("_", "-"),
                name,
                envvar=f.metadata["env"],
                show_envvar=True,
                default=f.default,
                show_default=not f.metadata["secret"],
                type=click.Path(path_type=Path) if kind is Path else kind,
                help=f.metadata["help"],
            )(func)
        return func

    return decorate


def from_options(kwargs: dict[str, Any]) -> Settings:
    """Pop the settings among a command's keyword arguments; the environment gives the rest."""
    names = {f.name for f in fields(Settings) if f.init}
    given = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
    return Settings.from_env(**given)
