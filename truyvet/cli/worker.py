"""``truyvet worker``: one stream-job worker process (faust)."""

from __future__ import annotations

import click

from truyvet.jobs.app import JOBS
from truyvet.jobs.worker import run_worker
from truyvet import settings as settings_mod
from truyvet.cli.options import env_option


@click.command("worker")
@settings_mod.options("bootstrap_servers", "redis_url", "kafka_port", "redis_port",
                      "topic_prefix", "checkin_partitions", "retention_days",
                      "max_future_skew_s", "dlq_max_share", "dlq_max_consecutive", "data_dir",
                      "worker_web_port")
@env_option("--jobs", "TRUYVET_WORKER_JOBS", default=",".join(JOBS),
            help="Comma-separated jobs this worker runs (a consumer group each).")
@click.pass_context
def command(ctx: click.Context, jobs: str, **kwargs: object) -> None:
    """Run the stream jobs: ingest (validation, dead letters, re-keying by card), visits
    (per-card visit building) and compliance (per-venue figures and alerts).

    Workers with the same --topic-prefix form one consumer group and share the partitions;
    start more for more throughput. Prometheus metrics: http://127.0.0.1:PORT/metrics.
    """
    s = settings_mod.from_options(kwargs)
    level = ctx.find_root().params.get("log_level", "info")
    wanted = tuple(j.strip() for j in jobs.split(",") if j.strip())
    unknown = set(wanted) - set(JOBS)
    if unknown:
        raise click.BadParameter(f"unknown jobs {sorted(unknown)}; known: {', '.join(JOBS)}")
    run_worker(s, loglevel={"warning": "warn"}.get(level, level), jobs=wanted)
