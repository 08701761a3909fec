"""A case's F1 list (pure): its contacts across every stop, each card once.

A result lists contacts per stop; a tracer calls people, so a card met at three stops is one
call. The F1 list merges the stops: per card, the stops where it was co-present with the case
(each with its overlap), their total overlap, and whether it is a close contact -- close at any
one stop, the directive's F1. Ranked by close first, then total overlap, then card id. By
default the list holds the close contacts only (the F1s); ``everyone`` gives every contact.

It is served as JSON (``match-f1``) or as CSV, UTF-8 with a byte-order mark so that a
spreadsheet shows Vietnamese diacritics, headed in Vietnamese or English, its times in
Vietnam time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import orjson

from truyvet.api.tracing.answers import Answer
from truyvet.codec.timefmt import parse_ms
from truyvet.domain import localtime

VERSION = 1
HEADERS = {
    "vi": ("STT", "Mã thẻ / mã QR cá nhân", "Tiếp xúc gần (F1)", "Tổng thời gian tiếp xúc (phút)",
           "Số điểm tiếp xúc", "Cơ sở, thời gian (giờ Việt Nam) và phút tiếp xúc"),
    "en": ("No.", "Card / personal QR id", "Close contact (F1)", "Total overlap (minutes)",
           "Stops in common", "Venue, time (Vietnam time) and minutes of overlap"),
}
YES = {"vi": ("có", "không"), "en": ("yes", "no")}
LANGS = tuple(HEADERS)


@dataclass(frozen=True, slots=True)
class Met:
    stop: int  # 0-based, in the itinerary's order
    venue_id: str
    from_: str
    to: str
    overlap_s: int


@dataclass(frozen=True, slots=True)
class Contact:
    card_id: str
    close_contact: bool
    overlap_s: int  # over every stop
    met: tuple[Met, ...]


def contacts_of(result: dict[str, Any], everyone: bool = False) -> list[Contact]:
    """The result's contacts, each card once, ranked (close, total overlap, card id)."""
    per: dict[str, list[tuple[Met, bool]]] = {}
    for i, s in enumerate(result["stops"]):
        for c in s["contacts"]:
            per.setdefault(c["card_id"], []).append(
                (Met(i, s["venue_id"], s["from"], s["to"], c["overlap_s"]), c["close_contact"]))
    merged = [Contact(card, any(close for _, close in met), sum(m.overlap_s for m, _ in met),
                      tuple(m for m, _ in met))
              for card, met in per.items()]
    merged = [c for c in merged if everyone or c.close_contact]
    merged.sort(key=lambda c: (not c.close_contact, -c.overlap_s, c.card_id))
    return merged


def as_json(result: dict[str, Any], everyone: bool = False) -> Answer:
    listed = contacts_of(result, everyone)
    body = {
        "v": VERSION, "case_id": result["case_id"], "classification": result.get("classification"),
        "card_id": result.get("card_id"), "revision": result["revision"],
        "computed_at": result.get("computed_at"), "contacts": "all" if everyone else "close",
        "counts": {"cards": len(listed),
                   "close_contacts": sum(1 for c in listed if c.close_contact)},
        "f1": [{"card_id": c.card_id, "close_contact": c.close_contact, "overlap_s": c.overlap_s,
                "stops": [{"stop": m.stop, "venue_id": m.venue_id, "from": m.from_, "to": m.to,
                           "overlap_s": m.overlap_s} for m in c.met]}
               for c in listed],
    }
    return Answer(result["case_id"], result["revision"], orjson.dumps(body),
                  len(result["stops"]), len(listed))


def as_csv(result: dict[str, Any], lang: str = "vi", everyone: bool = False) -> Answer:
    listed = contacts_of(result, everyone)
    yes, no = YES[lang]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEADERS[lang])
    for n, c in enumerate(listed, 1):
        w.writerow([n, c.card_id, yes if c.close_contact else no, round(c.overlap_s / 60, 1),
                    len(c.met), "; ".join(f"{m.venue_id} {_local(m.from_)}–{_local(m.to)[11:]} "
                                          f"({round(m.overlap_s / 60, 1)})" for m in c.met)])
    return Answer(result["case_id"], result["revision"], out.getvalue().encode("utf-8-sig"),
                  len(result["stops"]), len(listed))


def _local(timestamp: str) -> str:
    return localtime.format_local(parse_ms(timestamp))[:16].replace("T", " ")
