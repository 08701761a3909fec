"""Running the stream jobs as a faust worker process."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import faust

from truyvet.jobs.app import JOBS, JobService, batch_jobs, create_app
from truyvet.jobs.control import Control
from truyvet import gc_tuning, stopping
from truyvet.kafka import lag, producer
from truyvet.kafka.admin import ensure_topics_waiting
from truyvet.kafka.registry import VenueRegistry
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class Worker(faust.Worker):
    """faust's worker, with a deadline on shutdown.

    A graceful stop commits the offsets of processed events and leaves the group. If that
    hangs (the broker is gone: the group cannot be left, aiokafka retries its fetches), the
    process exits after ``stopping.STOP_DEADLINE_S`` anyway: uncommitted events are processed
    again by the next owner of their partitions (at-least-once), nothing is lost.
    """

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        # faust's terminal spinner sets the root logger to DEBUG so that it can spin on every
        # record: every debug call of aiokafka then builds a LogRecord (measured: ~10% of CPU)
        self.spinner = None
        super().on_setup_root_logger(logger, level)

    def _on_sigterm(self) -> None:
        self._stop_jobs_first()
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self._stop_jobs_first()
        super()._on_sigint()

    def _stop_jobs_first(self) -> None:
        """The batch jobs hold the commits that matter: they stop at once, side by side,
        rather than after faust's own consumer, which waits for a broker that is gone."""
        stopping.hold_to_deadline("worker")
        for service in self.services:
            if isinstance(service, JobService):
                threading.Thread(target=service.job.stop, name=f"stop-{service.job.name}",
                                 daemon=True).start()


def run_worker(s: Settings, web_port: int | None = None, loglevel: str = "info",
               jobs: tuple[str, ...] = JOBS) -> None:
    """Blocks until the worker is stopped (SIGINT/SIGTERM: graceful, offsets committed).

    Ready -- ``GET /ready`` on its web port answers 200, and it logs ``worker ready`` -- once
    every job has joined its group and rebuilt the state of the partitions it was given."""
    gc_tuning.tune()
    # the jobs' threads share the interpreter lock: one that calls into librdkafka (consume,
    # flush) waits for the lock after, up to the switch interval (5 ms by default); hand it
    # over more often, as the API does (its effect alone was not measured: docs/benchmarks.md)
    sys.setswitchinterval(0.0005)
    ensure_topics_waiting(s)  # a cluster restarting or electing: wait for it, do not die
    lags = lag.register(s)
    producer.export_metrics()
    registry = VenueRegistry(s).start()  # categories (dwell) and opening hours (silence)
    app = create_app(s, web_port)
    batch = batch_jobs(s, registry, jobs)

    control = Control(s, batch).start()  # `truyvet dlq resume JOB` reaches the jobs through it

    @app.page("/ready")
    async def ready(self: Any, request: Any) -> Any:
        """200 once every job has its partitions and state, or is paused by its guard (the
        worker runs; ``paused`` says which and why), else 503."""
        paused = {j.name: j.paused for j in batch if j.paused is not None}
        waiting = [j.name for j in batch if not j.ready.is_set() and j.name not in paused]
        return self.json({"ready": not waiting, "waiting_for": waiting, "paused": paused},
                         status=503 if waiting else 200)

    @app.timer(0.5)
    async def say_ready() -> None:
        if all(j.ready.is_set() for j in batch) and not said.is_set():
            said.set()
            log.info("worker ready: %s running, state rebuilt", ", ".join(j.name for j in batch))

    said = threading.Event()
    try:
        Worker(app, *(JobService(j) for j in batch), loglevel=loglevel, quiet=True,
               redirect_stdouts=False).execute_from_commandline()
    finally:
        control.stop()
        lags.close()
