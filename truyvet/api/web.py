"""What every route module shares: who is calling, JSON responses and refusals, bodies, and
the period of a query. (Each route module keeps the app keys of the services it calls.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from aiohttp import web

from truyvet.api.access import Principal
from truyvet.api.limits import retry_after
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.timefmt import parse_ms

MAX_BODY = itinerary_codec.MAX_BYTES
PRINCIPAL = web.RequestKey("principal", Principal)  # who is calling, set by the access check
DEFAULT_PERIOD_S = 7 * 86_400
RETRY_AFTER_S = "5"  # a 503's Retry-After: Kafka or the index not ready
T = TypeVar("T")


def error(status: int, reason: str, detail: str) -> web.Response:
    body = {"error": {"status": status, "reason": reason, "detail": detail}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def unavailable(reason: str, detail: str) -> web.Response:
    """503 with ``Retry-After``: what the request needs is not ready or not reachable now."""
    refusal = error(503, reason, detail)
    refusal.headers["Retry-After"] = RETRY_AFTER_S
    return refusal


def too_many(wait_s: float, detail: str) -> web.Response:
    """429 with the seconds to wait in ``Retry-After``."""
    refusal = error(429, "too_many_requests", detail)
    refusal.headers["Retry-After"] = retry_after(wait_s)
    return refusal


def json_response(obj: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(obj), content_type="application/json",
                        headers=headers)


async def read_json_body(request: web.Request) -> bytes | web.Response:
    """The raw JSON body, or the refusal to return (415, 413, 400)."""
    return await read_raw_body(request, "application/json")


async def read_json_value(request: web.Request) -> Any:
    """The JSON body decoded (any JSON value: the route checks its shape), or the refusal to
    return (415, 413, 400 ``not_json``): a :class:`web.Response`."""
    raw = await read_json_body(request)
    if isinstance(raw, web.Response):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return error(400, "not_json", "the body is not JSON")


async def read_raw_body(request: web.Request, *media_types: str) -> bytes | web.Response:
    """The raw body sent as one of ``media_types``, or the refusal to return (415, 413, 400)."""
    if request.content_type not in media_types:
        return error(415, "unsupported_media_type", f"send the body as {' or '.join(media_types)}")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return error(413, "too_large", f"at most {MAX_BODY} bytes")
    try:
        raw = await request.content.read(MAX_BODY + 1)
    except (TimeoutError, ConnectionError):
        return error(400, "bad_request", "the body could not be read")
    if len(raw) > MAX_BODY:
        return error(413, "too_large", f"at most {MAX_BODY} bytes")
    return raw



async def read_body(request: web.Request, decode: Callable[[bytes], T]) -> T | web.Response:
    """The body decoded by its codec, or the refusal to return (415, 413, 400 with the
    schema's reason)."""
    raw = await read_json_body(request)
    if isinstance(raw, web.Response):
        return raw
    try:
        return decode(raw)
    except InvalidEvent as exc:
        return error(400, str(exc.reason), exc.detail)


def period(request: web.Request) -> tuple[int, int] | web.Response:
    """``from`` and ``to`` query parameters (RFC 3339), by default the last seven days."""
    now = int(time.time()) + 1  # periods exclude their end: include the current second
    try:
        to_s = parse_ms(request.query["to"], "to") // 1000 if "to" in request.query else now
        frm_s = (parse_ms(request.query["from"], "from") // 1000 if "from" in request.query
                 else to_s - DEFAULT_PERIOD_S)
    except InvalidEvent as exc:
        return error(400, str(exc.reason), exc.detail)
    if frm_s >= to_s:
        return error(400, "bad_interval", "'from' must be before 'to'")
    return frm_s, to_s
