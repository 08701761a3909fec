"""A case's chain of transmission as the API answers it (pure): per ring (F1, F2, …) how many
cards and, up to ``limit``, who, reached by whom, where and from when
(:mod:`~truyvet.domain.matching.chains`); with what the audit trail counts of it."""

from __future__ import annotations

import orjson

from truyvet.api.tracing.answers import Answer
from truyvet.codec.timefmt import format_ms
from truyvet.domain.matching.chains import Chain

LIMIT, LIMIT_MAX = 1000, 10_000


def as_json(case_id: str, revision: int, stops: int, found: Chain, rings: int, limit: int,
            close_s: int, computed_at_ms: int) -> Answer:
    body = {
        "case_id": case_id, "revision": revision, "computed_at": format_ms(computed_at_ms),
        "close_contact_s": close_s, "rings_asked": rings, "truncated": found.truncated,
        "rings": [{"ring": n, "name": f"F{n}", "cards": len(ring),
                   "contacts": [{"card_id": lk.card, "via": lk.via, "venue_id": lk.venue_id,
                                 "exposed_at": format_ms(lk.exposed_at_s * 1000),
                                 "overlap_s": lk.overlap_s} for lk in ring[:limit]]}
                  for n, ring in enumerate(found.rings, 1)],
    }
    listed = sum(min(len(ring), limit) for ring in found.rings)
    return Answer(case_id, revision, orjson.dumps(body), stops, listed)
