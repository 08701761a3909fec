"""The faust app that hosts the stream jobs of one worker process, from :class:`Settings`.

The check-in path (ingest, visits, compliance) runs as batch jobs (:mod:`truyvet.jobs.runtime`)
inside the app, each as a :class:`JobService`; the app gives them a lifecycle, the web server
with ``/metrics``, and runs the low-volume agents (the dead-letter monitor).
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import mode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from truyvet.jobs import deadletter_monitor
from truyvet.jobs.compliance import compliance_job
from truyvet.jobs.ingest import ingest_job
from truyvet.jobs.runtime import BatchJob
from truyvet.jobs.visits import visits_job
from truyvet.kafka.backend import Backend
from truyvet.kafka.config import connection, faust_brokers, ssl_context
from truyvet.kafka.registry import VenueRegistry
from truyvet.settings import Settings

JOBS = ("ingest", "visits", "compliance")


def create_app(s: Settings, web_port: int | None = None) -> faust.App:
    (s.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{s.topic_prefix}-stream-jobs",  # also the consumer group id of faust agents
        broker=faust_brokers(s),
        broker_credentials=faust_credentials(s),
        store="memory://",
        datadir=str(s.data_dir / "faust"),
        topic_partitions=s.checkin_partitions,
        topic_allow_declare=False,  # truyvet creates its topics (truyvet.kafka.admin)
        topic_disable_leader=True,  # no leader-election topic: no job needs a leader
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger_ms=5,
        # a worker that dies without leaving the group holds its partitions this long
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=web_port or s.worker_web_port,
        web_enabled=True,
        web_in_thread=False,
    )

    deadletter_monitor.register(app, s)

    @app.page("/metrics")
    async def prometheus_metrics(self: Any, request: Any) -> Any:
        # in a thread: the consumer lag gauges ask Kafka (the broker away: seconds)
        text = await asyncio.to_thread(generate_latest)
        return self.bytes(text, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    return app


def faust_credentials(s: Settings) -> faust.auth.Credentials | None:
    """faust's ``broker_credentials``, from the same connection every other client uses."""
    c = connection(s)
    if c.sasl:
        return faust.SASLCredentials(username=c.sasl_username, password=c.sasl_password,
                                     ssl_context=ssl_context(s), mechanism=c.sasl_mechanism)
    if c.tls:
        return faust.SSLCredentials(ssl_context(s))
    return None


class JobService(mode.Service):
    """Runs a :class:`BatchJob` inside the faust worker; if the job dies, the worker does
    (so that its supervisor restarts it, and the group moves its partitions meanwhile)."""

    def __init__(self, job: BatchJob, **kwargs: object) -> None:
        self.job = job
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        self.job.start()

    async def on_stop(self) -> None:
        await asyncio.to_thread(self.job.stop)

    @mode.Service.task
    async def _watch(self) -> None:
        while not self.should_stop:
            await self.sleep(1.0)
            # (the worker's signal stops every job at once, before faust stops this service:
            # a job that ended because it was asked to is no crash; a crash then exited the
            # worker with status 1 after a clean SIGTERM, once in a fresh-clone CI)
            if not self.job.alive and not self.should_stop and (
                    self.job.error is not None or not self.job.stopping):
                await self.crash(self.job.error or RuntimeError(f"{self.job.name} stopped"))


def batch_jobs(s: Settings, registry: VenueRegistry, jobs: tuple[str, ...] = JOBS,
               backend: Backend | None = None) -> list[BatchJob]:
    """The batch jobs a worker runs (all by default; a worker may run some of them). The
    visits job asks ``registry`` for a venue's category (per-category dwell) as it builds."""
    rules = s.rules()
    dwell = rules.dwell_function(registry.category_of)
    made = {
        "ingest": lambda: ingest_job(s, backend),
        "visits": lambda: visits_job(s, rules, dwell, backend),
        "compliance": lambda: compliance_job(s, registry.open_at, backend),
    }
    return [made[name]() for name in jobs]
