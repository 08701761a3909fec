"""A local Apache Kafka 4 cluster in KRaft mode: combined broker+controller nodes.

Layout under ``<data_dir>/kafka``: ``cluster.id`` and, per node, ``node-<id>/`` holding
``server.properties``, the log directory ``data/``, ``broker.log`` and ``broker.pid``.
Node ``i`` (0-based) listens for clients on ``port + i`` and for controllers on
``port + 100 + i``, loopback only. The jars come from ``deploy/kafka/fetch-jars.sh``.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from truyvet.devstack.secure import BROKER_PORT_OFFSET, SecureStack
from truyvet.devstack.process import StartError, port_open, read_pid, spawn, stop, wait_until
from truyvet.kafka.admin import brokers_answering
from truyvet.settings import ROOT, Settings

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
CONTROLLER_PORT_OFFSET = 100


def fetch_jars(version: str) -> Path:
    """The directory of the broker's jars, fetched from Maven Central on first use."""
    script = ROOT / "deploy" / "kafka" / "fetch-jars.sh"
    env = {**os.environ, "KAFKA_VERSION": version}
    out = subprocess.run(
        ["bash", str(script)], env=env, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


@dataclass
class LocalKafka:
    data_dir: Path
    port: int = 19092
    nodes: int = 1
    version: str = "4.4.0"
    heap: str = "512m"
    start_timeout: float = 180.0
    secure: SecureStack | None = None  # SASL_SSL for clients, mTLS between brokers, ACLs
    # where each node's (appended) log was when this object last started it: what it says
    # after that is about this start
    _log_starts: dict[int, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, s: Settings, nodes: int = 1, secure: bool = False) -> LocalKafka:
        """The local cluster; ``secure``: the secured one (its own data directory)."""
        return cls(s.data_dir / ("kafka-secure" if secure else "kafka"), s.kafka_port, nodes,
                   s.kafka_version, s.kafka_heap, secure=SecureStack(s) if secure else None)

    # --- addresses -----------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{HOST}:{self.port + i}" for i in range(self.nodes))

    def client_settings(self) -> Settings:
        """Settings that reach this cluster (as its admin, when secured)."""
        s = Settings(bootstrap_servers=self.bootstrap_servers)
        return s if self.secure is None else self.secure.settings("admin").replace(
            bootstrap_servers=self.bootstrap_servers)

    def node_dir(self, i: int) -> Path:
        return self.data_dir / f"node-{i + 1}"

    def _pidfile(self, i: int) -> Path:
        return self.node_dir(i) / "broker.pid"

    def logfile(self, i: int) -> Path:
        return self.node_dir(i) / "broker.log"

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start every node not already running, then wait until all have registered."""
        libs = fetch_jars(self.version)
        cluster_id = self._cluster_id()
        for i in range(self.nodes):
            self.start_node(i, libs, cluster_id, wait=False)
        self.wait_ready()

    def start_node(
        self, i: int, libs: Path | None = None, cluster_id: str | None = None, wait: bool = True
    ) -> int:
        if (pid := read_pid(self._pidfile(i))) is not None:
            log.info("kafka node %d already running (pid %d)", i + 1, pid)
            return pid
        ports = [self.port + i, self.port + CONTROLLER_PORT_OFFSET + i]
        ports += [self.port + BROKER_PORT_OFFSET + i] if self.secure is not None else []
        for port in ports:
            if port_open(HOST, port):
                raise StartError(
                    f"port {port} is already in use by another process; choose other ports with"
                    " TRUYVET_KAFKA_PORT or stop that process"
                )
        libs = libs or fetch_jars(self.version)
        cluster_id = cluster_id or self._cluster_id()
        props = self._write_config(i)
        if not (self.node_dir(i) / "data" / "meta.properties").exists():
            self._format(libs, props, cluster_id, i)
        self._log_starts[i] = _size(self.logfile(i))
        pid = spawn(self._java(libs, "kafka.Kafka", str(props), heap=self.heap),
                    self.logfile(i), self._pidfile(i))
        log.info("kafka node %d starting (pid %d), log %s", i + 1, pid, self.logfile(i))
        if wait:
            self.wait_ready()
        return pid

    def wait_ready(self) -> None:
        """Probe with the Kafka protocol until every node is a registered broker."""
        pids = [read_pid(self._pidfile(i)) for i in range(self.nodes)]

        def all_registered() -> bool:
            for i, pid in enumerate(pids):
                if pid is not None and read_pid(self._pidfile(i)) is None:
                    raise StartError(f"kafka node {i + 1} exited; see {self.logfile(i)}")
                if _failed_to_bind(self.logfile(i), self._log_starts.get(i, 0)):  # the node lingers, but will never serve
                    raise StartError(f"kafka node {i + 1} could not bind its port (in use); "
                                     f"see {self.logfile(i)}")
            if not port_open(HOST, self.port):
                return False
            return brokers_answering(self.client_settings()) == self.nodes

        wait_until(all_registered, self.start_timeout, f"kafka ({self.bootstrap_servers})",
                   logfile=self.logfile(0))

    def stop(self, timeout: float = 60.0) -> None:
        """Stop every node gracefully (controlled shutdown flushes and hands off leadership)."""
        for i in reversed(range(self.nodes)):
            self.stop_node(i, timeout)

    def stop_node(self, i: int, timeout: float = 60.0) -> None:
        pid = read_pid(self._pidfile(i))
        if pid is not None:
            stop(pid, f"kafka node {i + 1}", timeout)
        self._pidfile(i).unlink(missing_ok=True)

    def kill_node(self, i: int) -> None:
        """SIGKILL one node: a crash, for fault tests."""
        import signal

        pid = read_pid(self._pidfile(i))
        if pid is not None:
            stop(pid, f"kafka node {i + 1}", timeout=10, sig=signal.SIGKILL)
        self._pidfile(i).unlink(missing_ok=True)

    def running(self) -> list[int | None]:
        return [read_pid(self._pidfile(i)) for i in range(self.nodes)]

    def wipe(self) -> None:
        """Delete all data (only when stopped)."""
        if any(self.running()):
            raise RuntimeError("stop the cluster before wiping it")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # --- files -------------------------------------------------------------------------------
    def _cluster_id(self) -> str:
        path = self.data_dir / "cluster.id"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cid = "-"
        while cid.startswith("-"):  # as Kafka's own Uuid.randomUuid: no id that looks like a flag
            cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        path.write_text(cid)
        return cid

    def _write_config(self, i: int) -> Path:
        n = self.nodes
        rf = min(3, n)
        voters = ",".join(
            f"{j + 1}@{HOST}:{self.port + CONTROLLER_PORT_OFFSET + j}" for j in range(n)
        )
        node = self.node_dir(i)
        (node / "data").mkdir(parents=True, exist_ok=True)
        client, controller = self.port + i, self.port + CONTROLLER_PORT_OFFSET + i
        props = {
            "process.roles": "broker,controller",
            "node.id": i + 1,
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://{HOST}:{client},CONTROLLER://{HOST}:{controller}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{client}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": node / "data",
            # topics are created by truyvet with chosen partitions and retention, never implicitly
            "auto.create.topics.enable": "false",
            "num.partitions": 1,
            "default.replication.factor": rf,
            "min.insync.replicas": 2 if rf >= 3 else 1,
            "offsets.topic.replication.factor": rf,
            "offsets.topic.num.partitions": 12,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": 2 if rf >= 3 else 1,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": 2 if rf >= 3 else 1,
            # a small machine: few threads; consumers join without waiting for stragglers
            "num.network.threads": 2,
            "num.io.threads": 4,
            "group.initial.rebalance.delay.ms": 0,
            "log.retention.check.interval.ms": 10_000,  # cheap; short retentions in tests
            "controlled.shutdown.enable": "true",
        }
        if self.secure is not None:
            props.update(self.secure.broker_properties(client, controller))
        path = node / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return path

    def _format(self, libs: Path, props: Path, cluster_id: str, i: int) -> None:
        secured = self.secure.format_arguments() if self.secure is not None else []
        argv = self._java(libs, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
                          "-c", str(props), "--ignore-formatted", *secured, heap="256m")
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0:
            raise StartError(f"formatting kafka node {i + 1} failed:\n{res.stdout[-2000:]}")

    @staticmethod
    def _java(libs: Path, main: str, *args: str, heap: str) -> list[str]:
        log4j = ROOT / "deploy" / "kafka" / "log4j2.properties"
        return [
            shutil.which("java") or "java",
            f"-Xmx{heap}", "-Xms64m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp", f"{libs}/*", main, *args,
        ]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _failed_to_bind(logfile: Path, since: int) -> bool:
    """Whether the log says, after byte ``since``, that the node could not bind a port
    (it then shuts down slowly or not at all: waiting would take the whole start timeout)."""
    try:
        with logfile.open("rb") as f:
            f.seek(since)
            return b"Socket server failed to bind" in f.read()
    except OSError:
        return False


def tool(s: Settings, main: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of Kafka's own command-line tools (e.g. ``org.apache.kafka.tools.consumer.group.
    ConsumerGroupCommand``) from the fetched jars; output captured."""
    libs = fetch_jars(s.kafka_version)
    argv = LocalKafka._java(libs, main, *args, heap="256m")
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
