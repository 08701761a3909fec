"""What the API answers of a published result (pure): the default answer, and pages of contacts.

A published result (``match-result.v1``) lists every contact of every stop: a 10-stop
itinerary at busy venues has ~14,000 of them, a megabyte of JSON. A tracer needs the counts and
the close contacts first, so that is the **default answer** (``match-summary``): per stop its
verification, its counts (contacts, close contacts), its close contacts ranked by overlap (at
most :data:`CLOSE_SHOWN`) and ``next``, the cursor to the rest of its contacts (null when the
answer lists them all). The cursor is the path of a page of one stop of one revision
(:func:`contacts_path`); a page has the next one's (``match-contacts``). The whole result is
``?contacts=all``.

Contacts are ranked by overlap, then card id, and a contact is close from ``close_contact_s``
of overlap: the close ones are the head of the ranking, so a stop's close contacts shown, then
its pages, are its ranking cut in consecutive slices.

Both forms are made from the published result as parsed JSON (:func:`summary_of`, what every
replica holds) or, on the replica that made it, from the result's arrays
(:func:`summary_of_result`, no megabyte parsed); they give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np
import orjson

from truyvet.codec.timefmt import format_ms
from truyvet.domain.matching.matcher import Result

VERSION = 1
CLOSE_SHOWN = 100  # close contacts listed per stop in the default answer; the cursor has the rest
PAGE_SIZE = 1000  # contacts per page unless the client asks for another number
PAGE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Answer:
    """A response body, with what the audit trail counts of it."""

    case_id: str
    revision: int
    json: bytes
    stop_count: int
    contacts: int  # contacts it discloses (all stops)


def contacts_path(case_id: str, revision: int, stop: int, after: int,
                  limit: int = PAGE_SIZE) -> str:
    """The cursor: the page of stop ``stop`` (0-based) of ``revision`` from rank ``after``."""
    tail = "" if limit == PAGE_SIZE else f"&limit={limit}"
    return (f"/api/v1/itineraries/{quote(case_id, safe='')}/contacts?revision={revision}"
            f"&stop={stop}&after={after}{tail}")


@dataclass(frozen=True, slots=True)
class StopSummary:
    head: dict[str, Any]  # venue_id, from, to, verified, gap: as in the result
    contacts: int
    close: int
    shown: int  # close contacts listed
    shown_json: bytes | orjson.Fragment | list[Any]  # those contacts, as the result has them


def _summary(head: dict[str, Any], stops: Sequence[StopSummary]) -> Answer:
    case_id, revision = head["case_id"], head["revision"]
    body = {
        "v": VERSION, **head,
        "counts": {"stops": len(stops),
                   "verified": sum(1 for s in stops if s.head["verified"]),
                   "gaps": sum(1 for s in stops if s.head["gap"]),
                   "contacts": sum(s.contacts for s in stops),
                   "close_contacts": sum(s.close for s in stops)},
        "stops": [{**s.head, "counts": {"contacts": s.contacts, "close_contacts": s.close},
                   "contacts": s.shown_json,
                   "next": contacts_path(case_id, revision, i, s.shown)
                   if s.shown < s.contacts else None}
                  for i, s in enumerate(stops)],
    }
    return Answer(case_id, revision, orjson.dumps(body), len(stops),
                  sum(s.shown for s in stops))


_HEAD = ("case_id", "classification", "card_id", "revision", "computed_at")
_STOP_HEAD = ("venue_id", "from", "to", "verified", "gap")


def summary_of(result: dict[str, Any]) -> Answer:
    """The default answer of a published result, parsed."""
    stops = []
    for s in result["stops"]:
        contacts = s["contacts"]
        close = _stop_counts(contacts)["close_contacts"]
        shown = min(close, CLOSE_SHOWN)
        stops.append(StopSummary({k: s[k] for k in _STOP_HEAD}, len(contacts), close, shown,
                                 contacts[:shown]))
    return _summary({k: result.get(k) for k in _HEAD}, stops)


def summary_of_result(res: Result, close_contact_s: int,
                      contacts_json: Callable[[np.ndarray, np.ndarray], bytes]) -> Answer:
    """The default answer of a result made here: its close contacts written from its arrays
    (``contacts_json(cards, overlaps)``, as the published result writes them)."""
    it = res.itinerary
    stops = []
    for s in res.stops:
        close = int(np.count_nonzero(s.overlaps >= close_contact_s))
        shown = min(close, CLOSE_SHOWN)
        stops.append(StopSummary(
            {"venue_id": s.venue_id, "from": format_ms(s.from_s * 1000),
             "to": format_ms(s.to_s * 1000), "verified": s.verified, "gap": s.gap},
            len(s.cards), close, shown,
            orjson.Fragment(contacts_json(s.cards[:shown], s.overlaps[:shown]))))
    return _summary({"case_id": it.case_id, "classification": it.classification,
                     "card_id": it.card_id, "revision": res.revision,
                     "computed_at": format_ms(res.computed_at_ms)}, stops)


class NoSuchStop(ValueError):
    pass


def page(result: dict[str, Any], stop: int, after: int, limit: int) -> Answer:
    """Contacts ranked ``after`` .. ``after + limit - 1`` of one stop of a published result,
    and the cursor to the next page (null after the last)."""
    stops = result["stops"]
    if not 0 <= stop < len(stops):
        raise NoSuchStop(f"the result has {len(stops)} stops (0 to {len(stops) - 1})")
    s = stops[stop]
    contacts = s["contacts"]
    taken = contacts[after:after + limit]
    end = after + len(taken)
    case_id, revision = result["case_id"], result["revision"]
    body = {"v": VERSION, "case_id": case_id, "revision": revision, "stop": stop,
            **{k: s[k] for k in _STOP_HEAD}, "counts": _stop_counts(contacts),
            "after": after, "contacts": taken,
            "next": contacts_path(case_id, revision, stop, end, limit)
            if end < len(contacts) else None}
    return Answer(case_id, revision, orjson.dumps(body), 1, len(taken))


def _stop_counts(contacts: list[dict[str, Any]]) -> dict[str, int]:
    return {"contacts": len(contacts),
            "close_contacts": sum(1 for c in contacts if c["close_contact"])}
