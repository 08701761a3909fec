"""Routes for tracers: itineraries, their results, and the stream of revisions."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.web import SERVICE, error, read_json_body
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec.errors import InvalidEvent


def add(app: web.Application) -> None:
    app.router.add_post("/api/v1/itineraries", post_itinerary)
    app.router.add_get("/api/v1/itineraries/{case_id}", get_itinerary)
    app.router.add_get("/api/v1/itineraries/{case_id}/events", itinerary_events)


async def post_itinerary(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    raw = await read_json_body(request)
    if isinstance(raw, web.Response):
        return raw
    try:
        it = itinerary_codec.decode(raw)
    except InvalidEvent as exc:
        return error(400, str(exc.reason), exc.detail)
    if it.submitted_at_ms is not None or it.submitted_by is not None:
        return error(400, "unknown_field", "submitted_at and submitted_by are set by the API")
    if not service.ready:
        return error(503, "not_ready", "the visit index is being rebuilt from Kafka; retry shortly")
    body, created = await service.submit(it)
    return web.Response(status=201 if created else 200, body=body, content_type="application/json")


async def get_itinerary(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    if not service.ready:
        return error(503, "not_ready", "standing itineraries are being restored; retry shortly")
    latest = service.get(request.match_info["case_id"])
    if latest is None:
        return error(404, "not_found", f"no itinerary with case_id {request.match_info['case_id']!r}")
    return web.Response(body=latest[1], content_type="application/json")


async def itinerary_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the current result at once, then every new revision."""
    service = request.app[SERVICE]
    case_id = request.match_info["case_id"]
    if not service.ready:
        return error(503, "not_ready", "standing itineraries are being restored; retry shortly")
    current = service.get(case_id)
    if current is None:
        return error(404, "not_found", f"no itinerary with case_id {case_id!r}")
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    queue = service.subscribe(case_id)
    try:
        await _send_event(resp, current)
        while True:
            try:
                latest = await asyncio.wait_for(queue.get(), timeout=15)
            except asyncio.TimeoutError:
                await resp.write(b": keep-alive\n\n")
                continue
            await _send_event(resp, latest)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        service.unsubscribe(case_id, queue)
    return resp


async def _send_event(resp: web.StreamResponse, latest: tuple[int, bytes]) -> None:
    revision, body = latest
    await resp.write(b"event: result\nid: %d\ndata: %s\n\n" % (revision, body))


