"""``truyvet api``: the tracer API process."""

from __future__ import annotations

import click

from truyvet.api.server import run_api
from truyvet import settings as settings_mod

API_SETTINGS = ("bootstrap_servers", "redis_url", "kafka_port", "redis_port", "topic_prefix",
                "checkin_partitions", "retention_days", "dwell_minutes", "match_tolerance_s",
                "close_contact_s", "cluster_window", "api_host", "api_port", "api_token",
                "api_tokens", "data_dir", "api_send_timeout_s", "api_rate", "api_max_streams", "case_owner")


@click.command("api")
@settings_mod.options(*API_SETTINGS)
def command(**kwargs: object) -> None:
    """Serve the tracer API: POST /api/v1/itineraries, GET /api/v1/itineraries/{case_id},
    GET /api/v1/itineraries/{case_id}/events (SSE), /healthz, /metrics.

    The visit index is rebuilt from the visits topic at start (/healthz says when it is
    ready); standing itineraries are re-matched as late scans change visits.
    """
    s = settings_mod.from_options(kwargs)
    run_api(s, s.token(), s.api_host, s.api_port)
