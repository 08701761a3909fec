"""Routes for authorities and inspectors: venue compliance, alerts, inspections, campaigns,
and the report to the Department of Information and Communications."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from truyvet.api.access import INSPECTOR
from truyvet.api.compliance.service import ComplianceService, UnknownVenue
from truyvet.api.tracing import followup_routes
from truyvet.api.tracing.routes import SERVICE
from truyvet.api.web import PRINCIPAL, error, json_response, period, read_body
from truyvet.codec import campaign as campaign_codec
from truyvet.codec import inspection as inspection_codec
from truyvet.domain import names
from truyvet.report import document
from truyvet.report.labels import LANGS

GROUPS = ("district", "category", "venue")
COMPLIANCE = web.AppKey("compliance", ComplianceService)


def add(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/compliance", compliance)
    r.add_get("/api/v1/compliance/venues/{venue_id}", venue)
    r.add_get("/api/v1/venues", venues)
    r.add_get("/api/v1/alerts", alerts)
    r.add_post("/api/v1/inspections", post_inspection)
    r.add_get("/api/v1/inspections", inspections)
    r.add_post("/api/v1/campaigns", post_campaign)
    r.add_get("/api/v1/campaigns", campaigns)
    r.add_get("/api/v1/campaigns/{campaign_id}/queue", queue)
    r.add_get("/api/v1/report", report)


def district_param(request: web.Request) -> str | None | web.Response:
    """``?district=`` as registered: typed with or without diacritics, in any case ("thanh pho
    hue" is "Thành phố Huế"); 404 naming the known districts when it is none of them."""
    given = request.query.get("district")
    if given is None:
        return None
    return registered_district(request, given)


def registered_district(request: web.Request, given: str) -> str | web.Response:
    """The registry's spelling of the district ``given``; 400 when ambiguous, 404 when none."""
    known = request.app[COMPLIANCE].districts()
    try:
        found = names.resolve(given, known)
    except names.Ambiguous as exc:
        return error(400, "ambiguous", f"district {given[:80]!r} could be any of "
                     f"{', '.join(exc.candidates)}; give its diacritics")
    if found is None:
        return error(404, "not_found", f"no district {given[:80]!r} in the venue registry; "
                     f"known: {', '.join(known)}")
    return found


async def compliance(request: web.Request) -> web.Response:
    """Figures per district (default), category or venue; filters district=, category=."""
    p = period(request)
    if isinstance(p, web.Response):
        return p
    by = request.query.get("by", "district")
    if by not in GROUPS:
        return error(400, "bad_enum", f"by={by[:20]!r}, expected one of {', '.join(GROUPS)}")
    district = district_param(request)
    if isinstance(district, web.Response):
        return district
    rows = request.app[COMPLIANCE].grouped(*p, by=by, district=district,
                                           category=request.query.get("category"))
    return json_response({"from": p[0], "to": p[1], "by": by, "rows": rows})


MAX_QUERY = 200
MAX_VENUES = 100


async def venues(request: web.Request) -> web.Response:
    """The registry searched as a tracer types: ``q`` with or without diacritics, every word
    beginning a word of the venue's name, address, ward or district; best first."""
    q = request.query.get("q", "")
    if not q.strip():
        return error(400, "empty_field", "q: what to search for (a venue's name, address, "
                     "ward or district; diacritics optional)")
    if len(q) > MAX_QUERY:
        return error(400, "field_too_long", f"q has {len(q)} characters, at most {MAX_QUERY}")
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        return error(400, "wrong_type", "limit must be an integer")
    if not 1 <= limit <= MAX_VENUES:
        return error(400, "bad_value", f"limit must be within 1..{MAX_VENUES}")
    district = district_param(request)
    if isinstance(district, web.Response):
        return district
    found = request.app[COMPLIANCE].search_venues(q, district, limit)
    return json_response({"q": q, "venues": found})


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
    district = district_param(request)
    if isinstance(district, web.Response):
        return district
    rows = request.app[COMPLIANCE].alert_list(*p, district=district,
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
    """The campaign, its districts as the registry spells them (typed with or without
    diacritics)."""
    campaign = await read_body(request, campaign_codec.decode)
    if isinstance(campaign, web.Response):
        return campaign
    districts = []
    for given in campaign.districts:
        found = registered_district(request, given)
        if isinstance(found, web.Response):
            return found
        if found not in districts:
            districts.append(found)
    campaign = dataclasses.replace(campaign, districts=tuple(districts))
    return json_response(await request.app[COMPLIANCE].create_campaign(campaign), 201)


async def campaigns(request: web.Request) -> web.Response:
    return json_response({"campaigns": request.app[COMPLIANCE].campaigns()})


async def queue(request: web.Request) -> web.Response:
    """The campaign's venues, those not yet inspected and most at risk first; ``district=``
    for one district's inspection team."""
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        return error(400, "wrong_type", "limit must be an integer")
    district = district_param(request)
    if isinstance(district, web.Response):
        return district
    found = request.app[COMPLIANCE].queue(request.match_info["campaign_id"],
                                          max(1, min(limit, 1000)), district=district)
    if found is None:
        return error(404, "not_found", f"no campaign {request.match_info['campaign_id']!r}")
    return json_response(found)


REPORT_FORMATS = ("json", "csv", "html")  # pdf: ``truyvet report`` (a Chromium per request)


async def report(request: web.Request) -> web.Response:
    """The figures as JSON, or the document itself: ``format=csv`` (an attachment) or
    ``format=html`` (printable A4), in ``lang=vi`` (default) or ``en``."""
    p = period(request)
    if isinstance(p, web.Response):
        return p
    fmt, lang = request.query.get("format", "json"), request.query.get("lang", "vi")
    if fmt not in REPORT_FORMATS or lang not in LANGS:
        return error(400, "bad_enum", f"format is one of {', '.join(REPORT_FORMATS)}; "
                     f"lang is one of {', '.join(LANGS)}")
    district = district_param(request)
    if isinstance(district, web.Response):
        return district
    body = request.app[COMPLIANCE].report(*p, district=district)
    tracing = request.app[SERVICE]  # the F1's follow-up, province-wide (cases have no district)
    body["followups"] = followup_routes.province_counts(tracing) if tracing.ready else None
    if fmt == "json":
        return json_response(body)
    name = document.file_name(*document.period_days(*p), district, fmt)
    how = "attachment" if fmt == "csv" else "inline"
    return web.Response(body=document.render(body, fmt, lang),
                        content_type=document.MEDIA_TYPES[fmt], charset="utf-8",
                        headers={"Content-Disposition": f'{how}; filename="{name}"'})
