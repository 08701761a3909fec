"""Running the stream jobs as a faust worker process."""

from __future__ import annotations

import faust

from stream_jobs.app import create_app
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings


def run_worker(s: Settings, web_port: int | None = None, loglevel: str = "info") -> None:
    """Blocks until the worker is stopped (SIGINT/SIGTERM: graceful, offsets committed)."""
    ensure_topics(s)
    app = create_app(s, web_port)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
