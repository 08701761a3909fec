"""The operations room's dashboard: a static page (``truyvet/api/dashboard/static/``: HTML, JS, CSS, no
external resources, on ``truyvet.api.pages``) and the JSON it polls that the other route modules do not serve: the
pipeline's figures (``/api/v1/ops``), the latest gaps without the cases (``/api/v1/gaps``)
and the words of each language (``/api/v1/labels``).

The page is public; the figures are not. The page reads the API token from its URL's
fragment (``/dashboard/#token=…``, never sent to a server) or asks for it, and keeps it for
the browser tab only."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from truyvet.api import pages
from truyvet.api.dashboard.ops import OpsMonitor
from truyvet.api.compliance.routes import COMPLIANCE, district_param
from truyvet.api.web import PRINCIPAL, error, json_response
from truyvet.report import labels

STATIC = Path(__file__).parent / "static"
OPS = web.AppKey("ops", OpsMonitor)


def add(app: web.Application) -> None:
    r = app.router
    r.add_get("/", to_dashboard)
    pages.mount(app, "/dashboard", STATIC)
    r.add_get("/api/v1/ops", ops)
    r.add_get("/api/v1/gaps", gaps)
    r.add_get("/api/v1/labels", words)
    r.add_get("/api/v1/whoami", whoami)


async def to_dashboard(request: web.Request) -> web.Response:
    raise web.HTTPFound("/dashboard/")


async def ops(request: web.Request) -> web.Response:
    return json_response(request.app[OPS].snapshot())


async def gaps(request: web.Request) -> web.Response:
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        return error(400, "bad_value", "limit must be an integer")
    if not 1 <= limit <= 1000:
        return error(400, "bad_value", "limit must be within 1..1000")
    district = district_param(request)
    if isinstance(district, web.Response):
        return district
    rows = request.app[COMPLIANCE].recent_gaps(limit, district=district)
    return json_response({"gaps": rows})


async def words(request: web.Request) -> web.Response:
    lang = request.query.get("lang", "vi")
    if lang not in labels.LANGS:
        return error(400, "bad_enum", f"lang={lang[:10]!r}, expected one of vi, en")
    return json_response(labels.bundle(lang))


async def whoami(request: web.Request) -> web.Response:
    p = request[PRINCIPAL]
    return json_response({"name": p.name, "roles": sorted(p.roles)})
