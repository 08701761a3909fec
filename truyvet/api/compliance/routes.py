"""Routes for authorities and inspectors: venue compliance, alerts, inspections, campaigns,
and the report to the Department of Information and Communications."""

from __future__ import annotations

from aiohttp import web

from truyvet.api.access import INSPECTOR
from truyvet.api.compliance.service import ComplianceService, UnknownVenue
from truyvet.api.web import PRINCIPAL, error, json_response, period, read_body
from truyvet.codec import campaign as campaign_codec
from truyvet.codec import inspection as inspection_codec

GROUPS = ("district", "category", "venue")
COMPLIANCE = web.AppKey("compliance", ComplianceService)


def add(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/compliance", compliance)
    r.add_get("/api/v1/compliance/venues/{venue_id}", venue)
    r.add_get("/api/v1/alerts", alerts)
    r.add_post("/api/v1/inspections", post_inspection)
    r.add_get("/api/v1/inspections", inspections)
    r.add_post("/api/v1/campaigns", post_campaign)
    r.add_get("/api/v1/campaigns", campaigns)
    r.add_get("/api/v1/campaigns/{campaign_id}/queue", queue)
    r.add_get("/api/v1/report", report)


async def compliance(request: web.Request) -> web.Response:
    """Figures per district (default), category or venue; filters district=, category=."""
    p = period(request)
    if isinstance(p, web.Response):
        return p
    by = request.query.get("by", "district")
    if by not in GROUPS:
        return error(400, "bad_enum", f"by={by[:20]!r}, expected one of {', '.join(GROUPS)}")
    rows = request.app[COMPLIANCE].grouped(*p, by=by, district=request.query.get("district"),
                                           category=request.query.get("category"))
    return json_response({"from": p[0], "to": p[1], "by": by, "rows": rows})


async def venue(request: web.Request) -> web.Response:
    p = period(request)
    if isinstance(p, web.Response):
        return p
    venue_id = request.match_info["venue_id"]
    found = request.app[COMPLIANCE].venue(venue_id, *p)
    if found is None:
        return error(404, "not_found", f"no venue {venue_id!r} in the registry")
    if not request[PRINCIPAL].may(INSPECTOR):  # ops: outcomes, not who inspected or notes
        found["inspections"] = [{k: i[k] for k in ("inspected_at", "outcome") if k in i}
                                for i in found["inspections"]]
    return json_response(found)


async def alerts(request: web.Request) -> web.Response:
    p = period(request)
    if isinstance(p, web.Response):
        return p
    rows = request.app[COMPLIANCE].alert_list(*p, district=request.query.get("district"),
                                              venue_id=request.query.get("venue_id"))
    return json_response({"alerts": rows})


async def post_inspection(request: web.Request) -> web.Response:
    insp = await read_body(request, inspection_codec.decode)
    if isinstance(insp, web.Response):
        return insp
    if insp.recorded_at_ms is not None:
        return error(400, "unknown_field", "recorded_at is set by the API")
    try:
        record = await request.app[COMPLIANCE].record_inspection(insp)
    except UnknownVenue:
        return error(404, "not_found", f"no venue {insp.venue_id!r} in the registry")
    return json_response(record, 201)


async def inspections(request: web.Request) -> web.Response:
    p = period(request)
    if isinstance(p, web.Response):
        return p
    rows = request.app[COMPLIANCE].inspections(*p, venue_id=request.query.get("venue_id"))
    return json_response({"inspections": rows})


async def post_campaign(request: web.Request) -> web.Response:
    campaign = await read_body(request, campaign_codec.decode)
    if isinstance(campaign, web.Response):
        return campaign
    return json_response(await request.app[COMPLIANCE].create_campaign(campaign), 201)


async def campaigns(request: web.Request) -> web.Response:
    return json_response({"campaigns": request.app[COMPLIANCE].campaigns()})


async def queue(request: web.Request) -> web.Response:
    """The campaign's venues, those not yet inspected and most at risk first."""
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        return error(400, "wrong_type", "limit must be an integer")
    found = request.app[COMPLIANCE].queue(request.match_info["campaign_id"], max(1, min(limit, 1000)))
    if found is None:
        return error(404, "not_found", f"no campaign {request.match_info['campaign_id']!r}")
    return json_response(found)


async def report(request: web.Request) -> web.Response:
    p = period(request)
    if isinstance(p, web.Response):
        return p
    district = request.query.get("district")
    known = request.app[COMPLIANCE].districts()
    if district is not None and district not in known:
        return error(404, "not_found", f"no district {district[:80]!r} in the venue registry; "
                     f"known: {', '.join(known)}")
    return json_response(request.app[COMPLIANCE].report(*p, district=district))
