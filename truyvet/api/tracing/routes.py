"""Routes for tracers: itineraries, their results, and the stream of revisions."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from truyvet.api.audit import AuditLog
from truyvet.api.tracing.service import TracerService
from truyvet.api.web import PRINCIPAL, error, read_body
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec.itinerary import Itinerary
from truyvet.domain.matching.revisions import Case

log = logging.getLogger(__name__)
SERVICE = web.AppKey("service", TracerService)
AUDIT = web.AppKey("audit", AuditLog)


def add(app: web.Application) -> None:
    app.router.add_post("/api/v1/itineraries", post_itinerary)
    app.router.add_get("/api/v1/itineraries/{case_id}", get_itinerary)
    app.router.add_get("/api/v1/itineraries/{case_id}/events", itinerary_events)


async def post_itinerary(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    it = await read_body(request, itinerary_codec.decode)
    if isinstance(it, web.Response):
        return it
    if it.submitted_at_ms is not None or it.submitted_by is not None:
        return error(400, "unknown_field", "submitted_at and submitted_by are set by the API")
    if not service.ready:
        return error(503, "not_ready", "the visit index is being rebuilt from Kafka; retry shortly")
    principal = request[PRINCIPAL]
    it = Itinerary(it.case_id, it.classification, it.card_id, it.stops, None, principal.name)
    case, created = await service.submit(it)
    refused = await _audit(request, "submit", case)
    if refused is not None:
        return refused
    return web.Response(status=201 if created else 200, body=case.json,
                        content_type="application/json")


async def _audit(request: web.Request, action: str, case: Case) -> web.Response | None:
    """Record the disclosure; the refusal to return instead when it cannot be recorded."""
    try:
        await request.app[AUDIT].record(request[PRINCIPAL], action, case,
                                        int(time.time() * 1000), request.remote)
    except Exception as exc:  # noqa: BLE001 - no audit, no data
        log.error("audit record for %s not written: %s", case.itinerary.case_id, exc)
        return error(503, "audit_unavailable", "the access could not be audited; retry shortly")
    return None


async def get_itinerary(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    if not service.ready:
        return error(503, "not_ready", "standing itineraries are being restored; retry shortly")
    case = service.cases.get(request.match_info["case_id"])
    if case is None:
        return error(404, "not_found", f"no itinerary with case_id {request.match_info['case_id']!r}")
    refused = await _audit(request, "read", case)
    if refused is not None:
        return refused
    return web.Response(body=case.json, content_type="application/json")


async def itinerary_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the current result at once, then every new revision."""
    service = request.app[SERVICE]
    case_id = request.match_info["case_id"]
    if not service.ready:
        return error(503, "not_ready", "standing itineraries are being restored; retry shortly")
    case = service.cases.get(case_id)
    if case is None:
        return error(404, "not_found", f"no itinerary with case_id {case_id!r}")
    refused = await _audit(request, "watch", case)
    if refused is not None:
        return refused
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    queue = service.subscribe(case_id)
    try:
        await _send_event(resp, case)
        while True:
            try:
                latest = await asyncio.wait_for(queue.get(), timeout=15)
            except asyncio.TimeoutError:
                await resp.write(b": keep-alive\n\n")
                continue
            if await _audit(request, "watch", latest) is not None:
                break  # not auditable: end the stream rather than disclose
            await _send_event(resp, latest)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        service.unsubscribe(case_id, queue)
    return resp


async def _send_event(resp: web.StreamResponse, case: Case) -> None:
    await resp.write(b"event: result\nid: %d\ndata: %s\n\n" % (case.result.revision, case.json))
