"""``truyvet worker``: one stream-job worker process (faust)."""

from __future__ import annotations

import click

from stream_jobs.worker import run_worker
from truyvet import settings as settings_mod


@click.command("worker")
@settings_mod.options("bootstrap_servers", "redis_url", "kafka_port", "redis_port",
                      "topic_prefix", "checkin_partitions", "retention_days",
                      "max_future_skew_s", "data_dir", "worker_web_port")
@click.pass_context
def command(ctx: click.Context, **kwargs: object) -> None:
    """Run the stream jobs (ingest: validation and dead letters, re-keying by card).

    Workers with the same --topic-prefix form one consumer group and share the partitions;
    start more for more throughput. Prometheus metrics: http://127.0.0.1:PORT/metrics.
    """
    s = settings_mod.from_options(kwargs)
    level = ctx.find_root().params.get("log_level", "info")
    run_worker(s, loglevel={"warning": "warn"}.get(level, level))
