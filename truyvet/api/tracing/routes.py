"""Routes for tracers: itineraries, their results, the stream of revisions, and sharing.

Results are answered in their default form -- per stop the counts, the close contacts ranked
and a cursor to the rest (``truyvet.api.tracing.answers``) -- or whole with
``?contacts=all``; the cursor pages through a stop's contacts
(``/api/v1/itineraries/{case_id}/contacts``).

A case is seen only by its owner (its opener, or its team's tracers when teams own cases), the
principals it was shared with, and supervisors
(``truyvet.domain.matching.ownership``); anyone else gets 403, and so does a submission of
another principal's case id."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

import orjson
from aiohttp import web

from truyvet.api.access import NAME
from truyvet.api.audit import AuditLog
from truyvet.api.limits import StreamSlots
from truyvet.api.tracing.service import Submitted, TracerService
from truyvet.api.web import (PRINCIPAL, error, json_response, read_body,
                             read_json_value, read_raw_body, too_many, unavailable)
from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec import itinerary_sheet
from truyvet.domain.matching import ownership
from truyvet.domain.matching.chains import MAX_RINGS
from truyvet.domain.matching.ownership import Outcome
from truyvet.api.tracing import answers, case_list, chain_view, f1_list
from truyvet.api.tracing.answers import Answer
from truyvet.api.tracing.board import Shown
from truyvet.codec.itinerary import Itinerary

log = logging.getLogger(__name__)
SERVICE = web.AppKey("service", TracerService)
AUDIT = web.AppKey("audit", AuditLog)
STREAMS = web.AppKey("streams", StreamSlots)  # open event streams per principal
WRITE_TIMEOUT_S = 30.0  # a client that takes no bytes for this long is dropped
PRINCIPALS = web.AppKey("principals", frozenset)  # the names the API knows (a case is shared with one)


def add(app: web.Application) -> None:
    app.router.add_post("/api/v1/itineraries", post_itinerary)
    app.router.add_get("/api/v1/itineraries", list_itineraries)
    app.router.add_post("/api/v1/imports/itineraries", import_itineraries)
    app.router.add_get("/api/v1/itineraries/{case_id}", get_itinerary)
    app.router.add_get("/api/v1/itineraries/{case_id}/events", itinerary_events)
    app.router.add_get("/api/v1/itineraries/{case_id}/contacts", itinerary_contacts)
    app.router.add_get("/api/v1/itineraries/{case_id}/f1", itinerary_f1)
    app.router.add_get("/api/v1/itineraries/{case_id}/chain", itinerary_chain)
    app.router.add_post("/api/v1/itineraries/{case_id}/shares", share_itinerary)


async def post_itinerary(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    whole = _whole(request)
    if isinstance(whole, web.Response):
        return whole
    it = await read_body(request, itinerary_codec.decode)
    if isinstance(it, web.Response):
        return it
    given = [f for f in itinerary_codec.API_FIELDS if itinerary_codec.to_mapping(it).get(f)]
    if given:
        return error(400, "unknown_field", f"{', '.join(given)}: set by the API")
    if not service.ready:
        return unavailable("not_ready", "the visit index is being rebuilt from Kafka; retry shortly")

    def disclose(case: Shown | Answer, outcome: Outcome, previous: int | None
                 ) -> Awaitable[None]:
        replaced = outcome is Outcome.REPLACED
        return _audited(request, "replace" if replaced else "submit",
                        _form(case, whole) if isinstance(case, Shown) else case,
                        previous_revision=previous if replaced else None)

    sent: web.Response | None = None

    async def answered(answer: Answer, outcome: Outcome) -> None:
        """The default answer, written as soon as it is made: the whole result is encoded
        and published after it (a request on this connection is read once that is done)."""
        nonlocal sent
        response = web.Response(status=201 if outcome is Outcome.OPENED else 200,
                                body=answer.json, content_type="application/json")
        await response.prepare(request)
        await response.write_eof()
        sent = response  # (a client gone before this: no answer went out)

    try:  # answered here: the disclosure recorded while the answer is made
        done = await service.submit(it, caller(request), disclose, None if whole else answered)
    except _NotAudited as exc:
        return exc.refusal
    except Exception:
        if sent is None:
            raise
        log.exception("case %s answered, then publishing its result failed", it.case_id)
        return sent
    if sent is not None:
        return sent
    if done.outcome is Outcome.NOT_OWNER:
        return _not_yours(it.case_id, "replace")
    case = done.case
    if case is None:  # recorded; its owner (another replica) has not answered it in time
        return json_response({"case_id": it.case_id, "status": "accepted",
                              "detail": "recorded; the answer follows on GET or the event "
                                        "stream of the case"}, 202,
                             headers={"Location": f"/api/v1/itineraries/{it.case_id}"})
    if not done.audited:  # not answered here (another replica did, or it was unchanged)
        try:
            await disclose(case, done.outcome, done.previous_revision)
        except _NotAudited as exc:
            return exc.refusal
    return web.Response(status=201 if done.outcome is Outcome.OPENED else 200,
                        body=_form(case, whole).json, content_type="application/json")


async def list_itineraries(request: web.Request) -> web.Response:
    """The cases the caller may see (its own, those shared with it; a supervisor's: all),
    newest first, with their counts; no card is listed (``case_list``)."""
    service = request.app[SERVICE]
    q = request.query
    unknown = sorted(set(q) - {"limit"})
    if unknown:
        return error(400, "unknown_field", f"{', '.join(unknown)}: not a parameter of the list")
    raw = q.getall("limit", [str(case_list.LIMIT)])
    if len(raw) > 1 or not raw[0].isdigit() or len(raw[0]) > 4 \
            or not 1 <= int(raw[0]) <= case_list.LIMIT_MAX:
        return error(400, "bad_value", f"limit is one whole number from 1 to {case_list.LIMIT_MAX}")
    if not service.ready:
        return unavailable("not_ready", "standing itineraries are being restored; retry shortly")
    return json_response(case_list.listed(service.board,
                                          lambda it: _may_see(request, it), int(raw[0])))


async def import_itineraries(request: web.Request) -> web.Response:
    """Many cases from a tracer's spreadsheet (CSV, ``truyvet.codec.itinerary_sheet``): every
    row checked first, and a sheet with any error, or with a case of another principal,
    imports nothing; then each case is submitted as a POST of it would be (audited, answered).
    The answer lists each case's outcome and counts, no card."""
    service = request.app[SERVICE]
    raw = await read_raw_body(request, "text/csv", "text/plain")
    if isinstance(raw, web.Response):
        return raw
    try:
        found = itinerary_sheet.read(raw)
    except itinerary_sheet.SheetRefused as exc:
        first = exc.errors[0]
        return json_response({"error": {
            "status": 400, "reason": first.reason,
            "detail": f"{len(exc.errors)} error(s) in the sheet, the first in row {first.row}: "
                      f"{first.detail}; nothing was imported"},
            "rows": [e.as_json() for e in exc.errors]}, 400)
    if not service.ready:
        return unavailable("not_ready", "the visit index is being rebuilt from Kafka; retry shortly")
    who = caller(request)
    theirs = [it.case_id for it in found if (held := service.board.itinerary(it.case_id))
              is not None and not ownership.owns(held, who)]
    if theirs:
        return error(403, "not_your_case", f"{', '.join(map(repr, theirs[:10]))}: opened by "
                     f"another principal, only its owner may replace it; nothing was imported")
    done: list[dict[str, object]] = []
    for n, it in enumerate(found):
        try:
            sub = await service.submit(it, who)
            shown = sub.case
            if shown is not None:
                replaced = sub.outcome is Outcome.REPLACED
                await request.app[AUDIT].sending(  # a submission; no contact is disclosed here
                    request[PRINCIPAL], "replace" if replaced else "submit",
                    Answer(it.case_id, shown.revision, b"", shown.stop_count, 0),
                    int(time.time() * 1000), request.remote,
                    previous_revision=sub.previous_revision if replaced else None)
        except Exception as exc:  # noqa: BLE001 - say what was recorded before the failure
            log.error("import stopped at case %s of %d: %s", it.case_id, len(found), exc)
            refusal = unavailable("kafka_unavailable", f"Kafka did not acknowledge case "
                                  f"{it.case_id!r}: the {n} cases before it were imported, "
                                  f"the rest not; send the sheet again (cases already imported "
                                  f"stay unchanged)")
            refusal.body = orjson.dumps({**orjson.loads(refusal.body), "imported": done})  # type: ignore[arg-type]
            return refusal
        done.append(_imported(it, sub))
    return json_response({"v": 1, "imported": done})


def _imported(it: Itinerary, sub: Submitted) -> dict[str, object]:
    """A case's line in the import's answer: opened, replaced, unchanged, accepted (recorded,
    its owner replica has not answered yet) or not_owner (opened by another meanwhile)."""
    shown = sub.case
    outcome = "accepted" if shown is None and sub.outcome is not Outcome.NOT_OWNER \
        else str(sub.outcome)
    return {"case_id": it.case_id, "outcome": outcome,
            "revision": shown.revision if shown is not None else None,
            "counts": orjson.loads(shown.summary.json)["counts"] if shown is not None else None}


def _whole(request: web.Request) -> bool | web.Response:
    """``?contacts=all``: the result whole; absent or ``close``: the default answer."""
    given = request.query.getall("contacts", [])
    if given in ([], ["close"]):
        return False
    if given == ["all"]:
        return True
    return error(400, "bad_value", "contacts is all (every contact) or close (the default: "
                 "counts, close contacts and a cursor per stop), once")


def _form(case: Shown, whole: bool) -> Shown | Answer:
    return case if whole else case.summary


def _not_yours(case_id: str, verb: str) -> web.Response:
    return error(403, "not_your_case", f"case {case_id!r} was opened by another principal: "
                 f"only its owner may {verb} it; a supervisor may share it with you")


class _NotAudited(Exception):
    """A disclosure that could not be recorded: the refusal to return instead."""

    def __init__(self, refusal: web.Response) -> None:
        super().__init__("not audited")
        self.refusal = refusal


def _audited(request: web.Request, action: str, case: Shown | Answer, **detail: object,
             ) -> Awaitable[None]:
    """The disclosure's record handed to Kafka now; awaiting what this returns waits for its
    acknowledgement, and raises :class:`_NotAudited` when it cannot be had."""
    try:
        acknowledged = request.app[AUDIT].sending(request[PRINCIPAL], action, case,
                                                  int(time.time() * 1000), request.remote,
                                                  **detail)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - no audit, no data
        return _not_audited(case.case_id, exc)
    return _acknowledged(case.case_id, acknowledged)


async def _acknowledged(case_id: str, acknowledged: Awaitable[object]) -> None:
    try:
        await acknowledged
    except Exception as exc:  # noqa: BLE001 - no audit, no data
        await _not_audited(case_id, exc)


async def _not_audited(case_id: str, exc: Exception) -> None:
    log.error("audit record for %s not written: %s", case_id, exc)
    raise _NotAudited(unavailable("audit_unavailable",
                                  "the access could not be audited; retry shortly"))


async def audit_disclosure(request: web.Request, action: str, case: Shown | Answer, **detail: object,
                 ) -> web.Response | None:
    """Record the disclosure; the refusal to return instead when it cannot be recorded."""
    try:
        await _audited(request, action, case, **detail)
    except _NotAudited as exc:
        return exc.refusal
    return None


async def get_itinerary(request: web.Request) -> web.Response:
    whole = _whole(request)
    if isinstance(whole, web.Response):
        return whole
    case = await visible(request, "read")
    if isinstance(case, web.Response):
        return case
    answer = _form(case, whole)
    refused = await audit_disclosure(request, "read", answer)
    if refused is not None:
        return refused
    return web.Response(body=answer.json, content_type="application/json")


async def itinerary_contacts(request: web.Request) -> web.Response:
    """A page of one stop's contacts of one revision, in rank order: the cursor of the
    default answer (``next``), or asked for directly. A revision no longer held (replicas keep
    five minutes of them) is 410: the client starts again from the latest answer."""
    service = request.app[SERVICE]
    asked = _page_query(request)
    if isinstance(asked, web.Response):
        return asked
    revision, stop, after, limit = asked
    latest = await visible(request, "read")
    if isinstance(latest, web.Response):
        return latest
    case_id = latest.case_id
    shown = latest if revision is None else service.board.revision(case_id, revision)
    if shown is None:
        return error(410, "revision_gone", f"revision {revision} of {case_id!r} is no longer "
                     f"held; the latest is {latest.revision}: start again from its answer")
    try:
        answer = answers.page(orjson.loads(shown.json), stop, after, limit)
    except answers.NoSuchStop as exc:
        return error(400, "bad_value", f"stop {stop}: {exc}")
    refused = await audit_disclosure(request, "read", answer)
    if refused is not None:
        return refused
    return web.Response(body=answer.json, content_type="application/json")


async def itinerary_f1(request: web.Request) -> web.Response:
    """The case's F1 list: its contacts over every stop, each card once, close contacts
    (``contacts=close``, the default) or all; JSON, or ``format=csv`` (UTF-8 with a BOM, for
    spreadsheets; ``lang=vi`` or ``en``). Audited as a read of every card it lists."""
    q = request.query
    unknown = sorted(set(q) - {"contacts", "format", "lang"})
    if unknown:
        return error(400, "unknown_field", f"{', '.join(unknown)}: not a parameter of the list")
    everyone = _whole(request)
    if isinstance(everyone, web.Response):
        return everyone
    fmt, lang = q.get("format", "json"), q.get("lang", "vi")
    if fmt not in ("json", "csv") or lang not in f1_list.LANGS:
        return error(400, "bad_enum", "format is json or csv; lang is vi or en")
    latest = await visible(request, "read")
    if isinstance(latest, web.Response):
        return latest
    result = orjson.loads(latest.json)
    if fmt == "csv":
        answer = f1_list.as_csv(result, lang, everyone)
        kind = {"content_type": "text/csv", "charset": "utf-8", "headers": {
            "Content-Disposition": f'attachment; filename="f1-{_file_part(latest.case_id)}'
                                   f'-r{latest.revision}.csv"'}}
    else:
        answer = f1_list.as_json(result, everyone)
        kind = {"content_type": "application/json"}
    refused = await audit_disclosure(request, "read", answer)
    if refused is not None:
        return refused
    return web.Response(body=answer.json, **kind)  # type: ignore[arg-type]


async def itinerary_chain(request: web.Request) -> web.Response:
    """The case's chain: its F1 (close contacts), then the close contacts those cards met on
    their own visits after their exposure (F2), up to ``rings`` rings (default 2, at most 4),
    from the visit index now; ``limit`` cards listed per ring (all counted). Audited
    (``expand``) with every card it lists."""
    q = request.query
    unknown = sorted(set(q) - {"rings", "limit"})
    if unknown:
        return error(400, "unknown_field", f"{', '.join(unknown)}: not a parameter of the chain")
    rings, limit = _whole_number(q, "rings", 2, 1, MAX_RINGS), \
        _whole_number(q, "limit", chain_view.LIMIT, 1, chain_view.LIMIT_MAX)
    for bad in (rings, limit):
        if isinstance(bad, web.Response):
            return bad
    latest = await visible(request, "read")
    if isinstance(latest, web.Response):
        return latest
    service = request.app[SERVICE]
    it = service.board.itinerary(latest.case_id)
    assert it is not None  # (visible: standing)
    found = await service.chain(it, int(rings))  # type: ignore[arg-type]
    answer = chain_view.as_json(latest.case_id, latest.revision, len(it.stops), found,
                                int(rings), int(limit), service.rules.close_contact_s,  # type: ignore[arg-type]
                                int(time.time() * 1000))
    refused = await audit_disclosure(request, "expand", answer)
    if refused is not None:
        return refused
    return web.Response(body=answer.json, content_type="application/json")


def _whole_number(q: Any, name: str, default: int, lo: int, hi: int) -> int | web.Response:
    raw = q.getall(name, [str(default)])
    if len(raw) > 1 or not raw[0].isdigit() or len(raw[0]) > 6 or not lo <= int(raw[0]) <= hi:
        return error(400, "bad_value", f"{name} is one whole number from {lo} to {hi}")
    return int(raw[0])


def _file_part(case_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in case_id)[:80]


def _page_query(request: web.Request) -> tuple[int | None, int, int, int] | web.Response:
    """``revision`` (default: the latest), ``stop`` (required, 0-based), ``after`` (default
    0) and ``limit`` (default ``PAGE_SIZE``, at most ``PAGE_MAX``)."""
    q = request.query
    unknown = sorted(set(q) - {"revision", "stop", "after", "limit"})
    if unknown:
        return error(400, "unknown_field", f"{', '.join(unknown)}: not a parameter of a page")
    values: dict[str, int] = {}
    for name, low, high in (("revision", 1, 2**31), ("stop", 0, 10_000),
                            ("after", 0, 2**31), ("limit", 1, answers.PAGE_MAX)):
        raw = q.getall(name, [])
        if not raw:
            continue
        if len(raw) > 1 or not raw[0].isdigit() or len(raw[0]) > 10 \
                or not low <= int(raw[0]) <= high:
            return error(400, "bad_value", f"{name} is one whole number from {low} to {high}")
        values[name] = int(raw[0])
    if "stop" not in values:
        return error(400, "missing_field", "stop: which stop's contacts (0 is the first)")
    return (values.get("revision"), values["stop"], values.get("after", 0),
            values.get("limit", answers.PAGE_SIZE))


async def itinerary_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the current result at once, then every new revision; a client
    reconnecting with ``Last-Event-ID`` (the revision it saw last), to this replica or any
    other, gets the revisions it missed first."""
    service = request.app[SERVICE]
    case_id = request.match_info["case_id"]
    whole = _whole(request)
    if isinstance(whole, web.Response):
        return whole
    case = await visible(request, "watch")
    if isinstance(case, web.Response):
        return case
    seen = _last_event_id(request)
    if isinstance(seen, web.Response):
        return seen
    slots, name = request.app[STREAMS], request[PRINCIPAL].name
    if not slots.acquire(name):
        return too_many(5, f"{name}: {slots.limit} event streams open already")
    try:
        refused = await audit_disclosure(request, "watch", _form(case, whole))
        if refused is not None:
            return refused
        return await _stream(request, service, case_id, seen, whole)
    finally:
        slots.release(name)


def _last_event_id(request: web.Request) -> int | None | web.Response:
    raw = request.headers.get("Last-Event-ID")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 12:
        return error(400, "bad_value", "Last-Event-ID is the revision last received")
    return int(raw)


async def _stream(request: web.Request, service: TracerService, case_id: str,
                  seen: int | None, whole: bool) -> web.StreamResponse:
    """The revisions after ``seen`` (None: the current one), then every new revision, until the
    client leaves, falls too far behind (dropped: it reconnects with ``Last-Event-ID``) or
    takes no bytes for ``WRITE_TIMEOUT_S``."""
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    queue = service.subscribe(case_id)  # before the backlog is taken: nothing falls between
    try:
        latest = service.board.latest(case_id)
        backlog = ([latest] if latest is not None else []) if seen is None else \
            service.board.since(case_id, seen)
        for shown in backlog:
            await _write(resp, _event(_form(shown, whole)))
            seen = shown.revision
        while True:
            try:
                latest = await asyncio.wait_for(queue.get(), timeout=15)
            except asyncio.TimeoutError:
                await _write(resp, b": keep-alive\n\n")
                continue
            if latest is None:
                log.info("a watcher of %s fell too far behind; dropped", case_id)
                break
            if seen is not None and latest.revision <= seen:
                continue
            answer = _form(latest, whole)
            if await audit_disclosure(request, "watch", answer) is not None:
                break  # not auditable: end the stream rather than disclose
            await _write(resp, _event(answer))
            seen = latest.revision
    except (ConnectionResetError, asyncio.CancelledError, TimeoutError):
        pass
    finally:
        service.unsubscribe(case_id, queue)
    return resp


async def _write(resp: web.StreamResponse, data: bytes) -> None:
    await asyncio.wait_for(resp.write(data), WRITE_TIMEOUT_S)


def _event(case: Shown | Answer) -> bytes:
    return b"event: result\nid: %d\ndata: %s\n\n" % (case.revision, case.json)


def caller(request: web.Request) -> ownership.Caller:
    """The principal, with its team when teams own cases (``TRUYVET_CASE_OWNER=team``)."""
    p = request[PRINCIPAL]
    teams = request.app[SERVICE].s.case_owner == "team"
    return ownership.Caller(p.name, p.roles, p.team if teams else None)


def _may_see(request: web.Request, it: Itinerary) -> bool:
    return ownership.may_see(it, caller(request))


async def visible(request: web.Request, verb: str) -> Shown | web.Response:
    """The latest revision of the path's case, when the caller may ``verb`` it; else the
    refusal (503 while restoring, 404, 403). A submission of the case whose answer went out
    before its revision was shown on this replica is waited for (``TracerService.settled``)."""
    service = request.app[SERVICE]
    if not service.ready:
        return unavailable("not_ready", "standing itineraries are being restored; retry shortly")
    case_id = request.match_info["case_id"]
    await service.settled(case_id)
    it, case = service.board.itinerary(case_id), service.board.latest(case_id)
    if it is None or case is None:
        return error(404, "not_found", f"no itinerary with case_id {case_id!r}")
    if not _may_see(request, it):
        return _not_yours(case_id, verb)
    return case


async def share_itinerary(request: web.Request) -> web.Response:
    """A supervisor lets another principal read and watch the case: ``{"with": NAME}``."""
    service = request.app[SERVICE]
    body = await read_json_value(request)
    if isinstance(body, web.Response):
        return body
    if type(body) is not dict or set(body) != {"with"} or type(body["with"]) is not str \
            or not NAME.fullmatch(body["with"]):
        return error(400, "bad_value", 'the body is {"with": "<principal name>"}')
    name = body["with"]
    if name not in request.app[PRINCIPALS]:
        return error(400, "unknown_principal", f"no principal named {name!r}")
    if not service.ready:
        return unavailable("not_ready", "standing itineraries are being restored; retry shortly")
    case_id = request.match_info["case_id"]
    try:
        it = await service.share(case_id, name)
    except ValueError as exc:
        return error(409, "too_many_shares", str(exc))
    case = service.board.latest(case_id)
    if it is None or case is None:
        return error(404, "not_found", f"no itinerary with case_id {case_id!r}")
    refused = await audit_disclosure(request, "share", case, shared_with=name)
    if refused is not None:
        return refused
    return json_response({"case_id": case_id, "owner": it.owner,
                          "shared_with": list(it.shared_with)})
