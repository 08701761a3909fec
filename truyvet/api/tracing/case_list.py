"""The cases a principal may see, newest first, with their counts (pure): the tracer's list.

A row names the case (id, classification, when its current stops were submitted and by whom,
its opener) and counts its latest revision -- stops, verified, gaps, contacts, close contacts
-- without listing a card: the case's own card and its contacts are disclosed (and audited) only
when the case is opened. A case not answered yet has no revision and no counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from truyvet.api.tracing.board import Board, Shown
from truyvet.codec.itinerary import Itinerary
from truyvet.codec.timefmt import format_ms

VERSION = 1
LIMIT = 50  # rows unless the client asks for another number
LIMIT_MAX = 500


def listed(board: Board, may_see: Callable[[Itinerary], bool],
           limit: int = LIMIT) -> dict[str, Any]:
    """The ``case-list`` body: the visible cases, newest submission first (then case id), at
    most ``limit`` of them, and how many there are in all."""
    seen = [it for it in board.cases() if may_see(it)]
    seen.sort(key=lambda it: (-(it.submitted_at_ms or 0), it.case_id))
    return {"v": VERSION, "total": len(seen),
            "cases": [_row(it, board.latest(it.case_id)) for it in seen[:limit]]}


def _row(it: Itinerary, shown: Shown | None) -> dict[str, Any]:
    return {
        "case_id": it.case_id, "classification": it.classification,
        "submitted_at": format_ms(it.submitted_at_ms) if it.submitted_at_ms else None,
        "submitted_by": it.submitted_by, "opened_by": it.owner,
        "revision": shown.revision if shown is not None else None,
        "counts": _counts(shown) if shown is not None
        else {"stops": len(it.stops), "verified": None, "gaps": None, "contacts": None,
              "close_contacts": None},
    }


def _counts(shown: Shown) -> dict[str, int]:
    return dict(orjson.loads(shown.summary.json)["counts"])
