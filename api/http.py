"""HTTP routes of the tracer API (aiohttp): JSON in, JSON out, bearer tokens.

Every refusal is a 4xx with ``{"error": {"status", "reason", "detail"}}``: 400 for a body
that breaks the itinerary schema (the reason codes of ``schemas/``), 401 without a valid
token, 404 for an unknown case, 413 for a body over 256 KiB, 415 for a non-JSON body, 503
while the index is still being rebuilt from Kafka.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.service import TracerService
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec.errors import InvalidEvent

log = logging.getLogger(__name__)
MAX_BODY = itinerary_codec.MAX_BYTES
PUBLIC = {"/healthz", "/metrics"}
SERVICE = web.AppKey("service", TracerService)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, reason: str, detail: str) -> web.Response:
    body = {"error": {"status": status, "reason": reason, "detail": detail}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(obj), content_type="application/json")


def auth_middleware(token: str) -> Any:
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC:
            return await handler(request)
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return error(401, "unauthorized", "a valid 'Authorization: Bearer <token>' is required")
        return await handler(request)

    return check


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors as JSON bodies, like every other refusal."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)


async def post_itinerary(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    if request.content_type != "application/json":
        return error(415, "unsupported_media_type", "send the itinerary as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return error(413, "too_large", f"at most {MAX_BODY} bytes")
    try:
        raw = await request.content.read(MAX_BODY + 1)
    except (asyncio.TimeoutError, ConnectionError):
        return error(400, "bad_request", "the body could not be read")
    if len(raw) > MAX_BODY:
        return error(413, "too_large", f"at most {MAX_BODY} bytes")
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


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = {"ready": service.ready, "index_visits": service.index.visits(),
            "standing_itineraries": len(service.cases),
            # next offset of the visits topic applied to the index, per partition
            "index_offsets": {str(p): o for p, o in sorted(service.index_positions().items())}}
    return json_response(body, 200 if service.ready else 503)


async def prometheus(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


def build_app(service: TracerService, token: str) -> web.Application:
    app = web.Application(middlewares=[refusals, auth_middleware(token)],
                          client_max_size=MAX_BODY + 1024)
    app[SERVICE] = service
    app.router.add_post("/api/v1/itineraries", post_itinerary)
    app.router.add_get("/api/v1/itineraries/{case_id}", get_itinerary)
    app.router.add_get("/api/v1/itineraries/{case_id}/events", itinerary_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app
