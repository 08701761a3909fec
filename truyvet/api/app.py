"""The API's HTTP application (aiohttp): JSON in, JSON out, bearer tokens.

Every refusal is a 4xx with ``{"error": {"status", "reason", "detail"}}``: 400 for a body
or query that breaks its schema (the reason codes of ``schemas/``), 401 without a valid
token, 403 outside the caller's roles (``truyvet.api.access``), 404 for an unknown case or venue, 413 for a body over 256 KiB, 415 for a non-JSON
body, 429 past a caller's limits (``truyvet.api.limits``), 503 (with ``Retry-After``) while the
state is still being rebuilt from Kafka or Kafka does not acknowledge in time. Routes: ``tracing_routes``
(itineraries), ``compliance_routes`` (venues, alerts, inspections, campaigns, report) and
``dashboard_routes`` (the operations room's page and figures), ``workbench_routes`` (the
tracers' page) and ``inspector_routes`` (the inspection teams' page); the pages and their
shared files (``truyvet.api.pages``) are public.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from truyvet import metrics
from truyvet.api import access
from truyvet.api.compliance import routes as compliance_routes
from truyvet.api.dashboard import routes as dashboard_routes
from truyvet.api.tracing import cluster_routes, followup_routes
from truyvet.api.tracing import routes as tracing_routes
from truyvet.api.inspector import routes as inspector_routes
from truyvet.api.workbench import routes as workbench_routes
from truyvet.api import pages
from truyvet.api.access import Tokens
from truyvet.api.audit import AuditLog
from truyvet.api.compliance.service import ComplianceService
from truyvet.api.dashboard.ops import OpsMonitor
from truyvet.api.tracing.service import TracerService
from truyvet.api.limits import Limits
from truyvet.api.web import (MAX_BODY, PRINCIPAL, error, json_response, too_many,
                             unavailable)
from truyvet.kafka.async_producer import DeliveryFailed

log = logging.getLogger(__name__)
access_log = logging.getLogger("truyvet.access")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def access_middleware(tokens: Tokens, limits: Limits) -> Any:
    """401 without a known bearer token, 403 when the principal's roles do not admit the
    route (``truyvet.api.access.ROUTES``), 429 past the principal's request rate or the client
    address's failed token attempts; the principal is left in ``request[PRINCIPAL]``."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if access.is_public(request.path):
            return await handler(request)
        given = request.headers.get("Authorization", "")
        principal = tokens.lookup(given[7:]) if given.startswith("Bearer ") else None
        if principal is None:
            wait = limits.failed_tokens.take(request.remote or "-")
            if wait:
                return too_many(wait, "too many requests without a valid token from this address")
            return error(401, "unauthorized", "a valid 'Authorization: Bearer <token>' is required")
        request[PRINCIPAL] = principal
        wait = limits.requests.take(principal.name)
        if wait:
            return too_many(wait, f"{principal.name}: more than {limits.rate:g} requests a second")
        route = request.match_info.route
        method = "GET" if request.method == "HEAD" else request.method
        allowed = access.ROUTES.get((method, route.resource.canonical)) if route.resource else None
        if allowed is None:  # no such route: the router answers 404 / 405
            return await handler(request)
        if not principal.may(allowed):
            return error(403, "forbidden", f"{principal.name} ({'+'.join(sorted(principal.roles))}) "
                         f"may not {method} {route.resource.canonical}; it needs "
                         f"{' or '.join(sorted(allowed))}")
        return await handler(request)

    return check


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route(request: web.Request) -> str:
    """The route as registered (``/api/v1/itineraries/{case_id}``): never the path itself,
    whose case and venue ids (and query) are not for a log."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


@web.middleware
async def accounting(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One access-log line per request, and ``truyvet_api_requests_total``: who (the
    principal's name, ``-`` without a known token), which route, the status and the time, and
    the peer (so that refusals and guessing leave a trace). No token, path or query: no case,
    card or venue id."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        principal = request.get(PRINCIPAL)
        route = _route(request)
        method = request.method if request.method in _METHODS else "OTHER"  # bounded labels
        metrics.API_REQUESTS.labels(method, route, str(status)).inc()
        access_log.info("%s %s %s %d %.1fms peer=%s",
                        principal.name if principal is not None else "-", method, route,
                        status, (time.perf_counter() - started) * 1000, request.remote or "-")


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors as JSON bodies, like every other refusal; Kafka not acknowledging in time
    what must be recorded first is a 503 with ``Retry-After`` (nothing was answered)."""
    try:
        return await handler(request)
    except DeliveryFailed as exc:
        log.warning("%s %s: %s", request.method, _route(request), exc)
        return unavailable("kafka_unavailable", "Kafka did not acknowledge in time what this "
                           "request must record first; retry shortly")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        refusal = error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
        if "Allow" in exc.headers:  # a 405 must say which methods the resource has (RFC 9110)
            refusal.headers["Allow"] = exc.headers["Allow"]
        return refusal


async def healthz(request: web.Request) -> web.Response:
    """200 once the index is rebuilt (``status`` ``ok``, or ``degraded`` when a view passed
    over records its handler failed on: the view lacks them until a restart), else 503."""
    service = request.app[tracing_routes.SERVICE]
    followers = [*service.followers, *request.app[compliance_routes.COMPLIANCE].followers]
    degraded = sorted(f.name for f in followers if f.degraded)
    body = {"ready": service.ready,
            "status": "starting" if not service.ready else "degraded" if degraded else "ok",
            "degraded": degraded,
            "index_visits": service.view.visits(),  # counted at most once a second
            "standing_itineraries": len(service.board),
            # the cases this replica re-matches: its partitions of the itineraries topic
            "rematched_here": len(service.cases),
            # of the cases given to it, those not answered again yet (a read answers one first)
            "answering_again": service.answering_again,
            "owned_partitions": sorted(service.owned),
            # next offset of the visits topic applied to the index, per partition
            "index_offsets": {str(p): o for p, o in sorted(service.view.positions().items())},
            # how the index started (a checkpoint, or the whole topic and why) and the last
            # checkpoint written
            "index_restored": service.view.restored,
            "index_checkpoint": service.view.last_checkpoint,
            "views": {f.name: f.health() for f in followers}}
    return json_response(body, 200 if service.ready else 503)


async def prometheus(request: web.Request) -> web.Response:
    # in a thread: the consumer lag gauges ask Kafka (the broker away: seconds), and the
    # event loop answers the tracers meanwhile
    text = await asyncio.to_thread(generate_latest)
    return web.Response(body=text, content_type=CONTENT_TYPE_LATEST.split(";")[0])


def build_app(service: TracerService, compliance: ComplianceService, ops: OpsMonitor,
              tokens: Tokens, limits: Limits | None = None) -> web.Application:
    limits = limits or Limits()
    app = web.Application(middlewares=[accounting, refusals, access_middleware(tokens, limits)],
                          client_max_size=MAX_BODY + 1024)
    app[tracing_routes.SERVICE] = service
    app[compliance_routes.COMPLIANCE] = compliance
    app[dashboard_routes.OPS] = ops
    app[tracing_routes.AUDIT] = AuditLog(service.s, service.producer)
    app[tracing_routes.PRINCIPALS] = tokens.names()
    app[tracing_routes.STREAMS] = limits.streams
    tracing_routes.add(app)
    cluster_routes.add(app)
    followup_routes.add(app)
    compliance_routes.add(app)
    dashboard_routes.add(app)
    workbench_routes.add(app)
    inspector_routes.add(app)
    pages.add(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app
