"""The inspector's page: a static page (``truyvet/api/inspector/static/``, on
``truyvet.api.pages``) over the compliance routes -- the campaigns (``/api/v1/campaigns``),
the campaign's risk queue for the team's district (``/api/v1/campaigns/{id}/queue?district=``),
an inspection recorded (``POST /api/v1/inspections``), a campaign created, and the report to
the Department of Information and Communications (``/api/v1/report``, its CSV and printable
HTML). It serves no data of its own: the page is public and asks for a token, every figure it
shows comes from a route the token's roles allow."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from truyvet.api import pages

STATIC = Path(__file__).parent / "static"


def add(app: web.Application) -> None:
    pages.mount(app, "/inspector", STATIC)
