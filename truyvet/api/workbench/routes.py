"""The tracer workbench: a static page (``truyvet/api/workbench/static/``, on
``truyvet.api.pages``) over the tracing and registry routes -- the tracer's cases
(``GET /api/v1/itineraries``), a new case entered with the venue search (``/api/v1/venues``),
its answer as a timeline, its F1 list and CSV, its live revisions. It serves no data of its
own: the page is public and asks for a token, every figure it shows comes from a route the
token's roles allow."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from truyvet.api import pages

STATIC = Path(__file__).parent / "static"


def add(app: web.Application) -> None:
    pages.mount(app, "/workbench", STATIC)
