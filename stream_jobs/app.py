"""The faust app that hosts every stream job, configured from :class:`Settings`."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream_jobs.ingest import job as ingest_job
from stream_jobs.visits import job as visits_job
from truyvet.matching.visits import Dwell
from truyvet.settings import Settings


def create_app(s: Settings, web_port: int | None = None, dwell: Dwell | None = None) -> faust.App:
    """``dwell``: dwell(venue) in seconds; by default the rules' default dwell for all."""
    (s.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{s.topic_prefix}-stream-jobs",  # also the consumer group id
        broker=[f"kafka://{hp}" for hp in s.bootstrap_servers.split(",")],
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
    rules = s.rules()
    ingest_job.register(app, s)
    visits_job.register(app, s, rules, dwell or (lambda venue: rules.default_dwell_s))

    @app.page("/metrics")
    async def prometheus_metrics(self: Any, request: Any) -> Any:
        return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    return app
