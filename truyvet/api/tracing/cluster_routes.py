"""``GET /api/v1/clusters``: the clusters (ổ dịch) of the standing cases, newest first
(``truyvet.api.tracing.clusters``), for the dashboard and the workbench.

A cluster names cases: its members (case, stop, span) are listed only for the cases the caller
may see (``truyvet.domain.matching.ownership``), the others are counted (``hidden_cases``); an
inspector or the operations room sees venues, times and counts, never a case."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from truyvet.api.compliance.routes import COMPLIANCE, district_param
from truyvet.api.tracing.routes import SERVICE, caller
from truyvet.api.web import error, json_response, unavailable
from truyvet.codec.fields import MAX_ID_LENGTH
from truyvet.codec.timefmt import format_ms
from truyvet.domain.clusters import Cluster
from truyvet.domain.matching import ownership

LIMIT, LIMIT_MAX = 100, 1000
PARAMETERS = {"district", "case_id", "limit"}


def add(app: web.Application) -> None:
    app.router.add_get("/api/v1/clusters", clusters)


async def clusters(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    q = request.query
    unknown = sorted(set(q) - PARAMETERS)
    if unknown:
        return error(400, "unknown_field", f"{', '.join(unknown)}: not a parameter of the list")
    raw = q.get("limit", str(LIMIT))
    if not raw.isdigit() or len(raw) > 4 or not 1 <= int(raw) <= LIMIT_MAX:
        return error(400, "bad_value", f"limit is one whole number from 1 to {LIMIT_MAX}")
    district = district_param(request)
    if isinstance(district, web.Response):
        return district
    if not service.ready:
        return unavailable("not_ready", "standing itineraries are being restored; retry shortly")
    case_id = q.get("case_id")
    if case_id is not None and not 1 <= len(case_id) <= MAX_ID_LENGTH:
        return error(400, "bad_value", f"case_id has 1 to {MAX_ID_LENGTH} characters")
    who = caller(request)
    compliance = request.app[COMPLIANCE]
    if case_id is None:
        found = service.clusters.book.clusters()
    else:  # a case the caller may not see: nothing is said of it, not even its clusters
        found = service.clusters.book.of_case(case_id) if _may_see(service, case_id, who) \
            else []
    rows = []
    for c in found:
        venue = compliance.venue_info(c.venue_id)
        if district is not None and venue.get("district") != district:
            continue
        rows.append(_row(c, venue, lambda cid: _may_see(service, cid, who)))
    return json_response({"window": service.clusters.window.text(), "total": len(rows),
                          "clusters": rows[:int(raw)]})


def _may_see(service: Any, case_id: str, who: ownership.Caller) -> bool:
    it = service.board.itinerary(case_id)
    return it is not None and ownership.may_see(it, who)


def _row(c: Cluster, venue: dict[str, Any], may_see: Any) -> dict[str, Any]:
    seen = {cid for cid in c.cases if may_see(cid)}
    return {"cluster_id": c.cluster_id, "venue": venue, "from": format_ms(c.from_ms),
            "to": format_ms(c.to_ms), "cases": len(c.cases),
            "hidden_cases": len(c.cases) - len(seen),
            "members": [{"case_id": m.case_id, "stop": m.stop, "from": format_ms(m.from_ms),
                         "to": format_ms(m.to_ms)} for m in c.members if m.case_id in seen]}
