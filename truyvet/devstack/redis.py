"""A local redis-server (Debian's package), on loopback.

Redis holds only state derived from Kafka, which truyvet rebuilds from the topics when Redis
comes back empty; so it runs without persistence (no RDB snapshots, no AOF) and with
``noeviction`` so that a full memory is an error, never silently dropped state.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

from truyvet.devstack.secure import SecureStack
from truyvet.devstack.process import StartError, port_open, read_pid, spawn, stop, wait_until
from truyvet.secret_file import write_private
from truyvet.settings import ROOT, Settings

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


@dataclass
class LocalRedis:
    data_dir: Path
    port: int = 16379
    maxmemory: str = "4gb"
    secure: SecureStack | None = None  # a password, and TLS only

    @classmethod
    def from_settings(cls, s: Settings, secure: bool = False) -> LocalRedis:
        return cls(s.data_dir / ("redis-secure" if secure else "redis"), s.redis_port,
                   secure=SecureStack(s) if secure else None)

    @property
    def url(self) -> str:
        if self.secure is not None:
            return self.secure.redis_url(self.port)
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "redis.log"

    def start(self) -> None:
        if (pid := read_pid(self.pidfile)) is not None:
            log.info("redis already running (pid %d)", pid)
            return
        if port_open(HOST, self.port):
            raise StartError(
                f"port {self.port} is already in use by another process; choose another with"
                " TRUYVET_REDIS_PORT or stop that process"
            )
        binary = shutil.which("redis-server")
        if binary is None:
            subprocess.run(["bash", str(ROOT / "deploy" / "debian" / "install.sh")], check=True)
            binary = shutil.which("redis-server") or "redis-server"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            binary, *(self._secured() if self.secure is not None else ["--port", str(self.port)]),
            "--bind", HOST, "--dir", str(self.data_dir),
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction",
            "--protected-mode", "yes",
        ]
        pid = spawn(argv, self.logfile, self.pidfile)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        wait_until(lambda: bool(client.ping()), 30, f"redis ({self.url})", pid, self.logfile)

    def _secured(self) -> list[str]:
        """A config file (0600: the password is not on the command line, which every user can
        read in /proc) with TLS only and the users."""
        assert self.secure is not None
        certs = self.secure.certs
        lines = ["port 0", f"tls-port {self.port}", f"tls-cert-file {certs.server_cert}",
                 f"tls-key-file {certs.server_key}", f"tls-ca-cert-file {certs.ca}",
                 "tls-auth-clients no", *self.secure.redis_acl()]
        conf = self.data_dir / "redis.conf"
        write_private(conf, "\n".join(lines) + "\n")
        return [str(conf)]

    def stop(self, timeout: float = 30.0) -> None:
        pid = read_pid(self.pidfile)
        if pid is not None:
            stop(pid, "redis", timeout)
        self.pidfile.unlink(missing_ok=True)

    def running(self) -> int | None:
        return read_pid(self.pidfile)
