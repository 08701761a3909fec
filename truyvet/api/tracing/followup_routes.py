"""Follow-up of a case's contacts: ``PUT /api/v1/itineraries/{case_id}/followups/{card_id}``
records where tracers are with one contact (chưa liên hệ, đã liên hệ, đã xét nghiệm, cách ly);
``GET /api/v1/itineraries/{case_id}/followups`` lists them for the case's F1 (close contacts;
a contact with nothing recorded is ``not_contacted``). Who may see the case may record (its
owner, those it was shared with, supervisors); a read is audited like a read of contacts."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from truyvet.api.tracing import f1_list
from truyvet.api.tracing.answers import Answer
from truyvet.api.tracing.routes import SERVICE, audit_disclosure, visible
from truyvet.api.web import PRINCIPAL, error, json_response, read_json_value
from truyvet.codec import followup as followup_codec
from truyvet.codec.followup import STATUSES, FollowUp
from truyvet.codec.timefmt import format_ms


def add(app: web.Application) -> None:
    app.router.add_get("/api/v1/itineraries/{case_id}/followups", followups)
    app.router.add_put("/api/v1/itineraries/{case_id}/followups/{card_id}", record)


async def followups(request: web.Request) -> web.Response:
    if request.query:
        return error(400, "unknown_field", f"{', '.join(sorted(request.query))}: the list "
                     "takes no parameter")
    latest = await visible(request, "read")
    if isinstance(latest, web.Response):
        return latest
    rows = listing(orjson.loads(latest.json),
                   request.app[SERVICE].followups.of_case(latest.case_id))
    body = {"case_id": latest.case_id, "revision": latest.revision,
            "counts": {st: sum(1 for r in rows if r["status"] == st) for st in STATUSES},
            "followups": rows}
    answer = Answer(latest.case_id, latest.revision, orjson.dumps(body), latest.stop_count,
                    len(rows))
    refused = await audit_disclosure(request, "read", answer)
    if refused is not None:
        return refused
    return web.Response(body=answer.json, content_type="application/json")


def listing(result: dict[str, Any], recorded: list[FollowUp]) -> list[dict[str, Any]]:
    """Per F1 card of the result (ranked as its F1 list), its latest status (pure)."""
    by_card = {f.card_id: f for f in recorded}
    out = []
    for c in f1_list.contacts_of(result):
        f = by_card.get(c.card_id)
        out.append({"card_id": c.card_id, "status": f.status if f else "not_contacted",
                    "by": f.by if f else None, "at": format_ms(f.at_ms) if f else None,
                    "note": f.note if f else ""})
    return out


async def record(request: web.Request) -> web.Response:
    latest = await visible(request, "follow up")
    if isinstance(latest, web.Response):
        return latest
    body = await read_json_value(request)
    if isinstance(body, web.Response):
        return body
    if type(body) is not dict or not set(body) <= {"status", "note"} or "status" not in body:
        return error(400, "bad_value", 'the body is {"status": …} with an optional "note"')
    if body["status"] not in STATUSES:
        return error(400, "bad_enum", f"status is one of {', '.join(STATUSES)}")
    note = body.get("note", "")
    if type(note) is not str or len(note) > 500:
        return error(400, "bad_value", "note is text of at most 500 characters")
    card_id = request.match_info["card_id"]
    contacts = {c.card_id for c in f1_list.contacts_of(orjson.loads(latest.json), True)}
    if card_id not in contacts:
        return error(404, "not_a_contact", f"{card_id[:128]!r} is not a contact of case "
                     f"{latest.case_id!r} in its latest revision")
    f = FollowUp(latest.case_id, card_id, body["status"], request[PRINCIPAL].name,
                 int(time.time() * 1000), note)
    await request.app[SERVICE].followups.record(f)  # (DeliveryFailed: 503 by the middleware)
    return json_response(followup_codec.to_mapping(f))


def province_counts(service: Any) -> dict[str, Any]:
    """For the report: the F1 (close contacts) of every standing case, each (case, card) once,
    by its latest status (nothing recorded: ``not_contacted``)."""
    counts = dict.fromkeys(STATUSES, 0)
    cases = 0
    book = service.followups
    for it in service.board.cases():
        shown = service.board.latest(it.case_id)
        if shown is None:
            continue
        cases += 1
        recorded = {f.card_id: f.status for f in book.of_case(it.case_id)}
        for card in book.f1_cards(it.case_id, shown.revision, shown.json):
            counts[recorded.get(card, "not_contacted")] += 1
    return {"cases": cases, "contacts": sum(counts.values()), "statuses": counts}
