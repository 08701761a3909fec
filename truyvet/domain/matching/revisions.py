"""A standing case and its next revision (pure): the decision the tracer service acts on.

A case is an itinerary with its latest result (and that result's JSON, as served). When the
case is answered again -- submitted, or re-matched because late scans changed its venues --
:func:`next_revision` decides: the same result (nothing to publish), or a new revision with the
gap events it emits: ``open`` for a stop that became a gap, ``resolved`` for one that no longer
is, or that a corrected itinerary withdrew. The service only does the I/O around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from truyvet.codec.gap import Gap, gap_id
from truyvet.codec.itinerary import Itinerary
from truyvet.domain.matching.matcher import Result, StopResult, same_stops


class Case:
    """A standing case: its latest result, that result's JSON as served and published, and
    when each of its open gaps was flagged (gap_id -> ms). The JSON may be given as the
    function that encodes it: it is then encoded when first read (a submission's default
    answer goes out before the whole result is encoded; the tracer service holds its cases so,
    their JSON being held by its board)."""

    __slots__ = ("result", "flagged_at", "_json", "_encode")

    def __init__(self, result: Result, json: bytes | Callable[[Result], bytes],
                 flagged_at: dict[str, int] | None = None) -> None:
        self.result = result
        self.flagged_at = {} if flagged_at is None else flagged_at
        self._json: bytes | None = json if isinstance(json, bytes) else None
        self._encode = None if isinstance(json, bytes) else json

    @property
    def json(self) -> bytes:
        """The result as served and published (``match-result.v1``)."""
        if self._json is None:
            assert self._encode is not None
            self._json, self._encode = self._encode(self.result), None
        return self._json

    @property
    def itinerary(self) -> Itinerary:
        return self.result.itinerary

    @property
    def case_id(self) -> str:
        return self.result.itinerary.case_id

    @property
    def revision(self) -> int:
        return self.result.revision

    @property
    def stop_count(self) -> int:
        return len(self.result.stops)

    @property
    def contacts(self) -> int:
        return sum(len(stop.cards) for stop in self.result.stops)

    def expires_at_s(self, retention_s: int) -> int:
        """A case, and every copy of its result, is kept for the retention after submission."""
        return (self.itinerary.submitted_at_ms or 0) // 1000 + retention_s


@dataclass(frozen=True)
class Revision:
    case: Case  # what the case is now
    published: bool  # a new revision: publish, store and push it
    gaps: tuple[Gap, ...] = ()  # the gap events to publish with it


def next_revision(
    current: Case | None, old: Result | None, it: Itinerary, stops: tuple[StopResult, ...],
    now_ms: int, encode: Callable[[Result], bytes], publish_unchanged: bool = False,
    published: int = 0,
) -> Revision:
    """The case after answering ``it`` with ``stops``. ``current``: the case as held now (None:
    new); ``old``: the result it is compared with (the current one, or the last published when
    restoring). Unchanged -- same itinerary, same stops -- it stays as it is unless
    ``publish_unchanged`` (a submission always makes a revision). ``encode`` makes a result's
    JSON: a new revision's when its case's ``json`` is first read. ``published``: the latest
    revision of the case published (0: none); a new revision comes after it and after
    ``old`` (an owner that answers a case without its last result -- taken over but not
    answered again yet, or its last result unreadable -- must not number it from 1 again:
    every replica would keep the older one, a revision it already holds)."""
    flagged = dict(current.flagged_at) if current else {}
    if (old is not None and not publish_unchanged and old.itinerary == it
            and same_stops(old.stops, stops)):
        if current is not None and current.result is old:
            return Revision(current, False)
        return Revision(Case(old, encode, flagged), False)
    result = Result(it, max(old.revision if old else 0, published) + 1, now_ms, stops)
    gaps = gap_events(old, result, now_ms, flagged)
    for g in gaps:
        if g.status == "open":
            flagged[g.gap_id] = g.flagged_at_ms
        else:
            flagged.pop(g.gap_id, None)
    return Revision(Case(result, encode, flagged), True, gaps)


def gap_events(old: Result | None, new: Result, now_ms: int,
               flagged_at: dict[str, int]) -> tuple[Gap, ...]:
    """``open`` for each stop of ``new`` that is a gap and was not in ``old``; ``resolved``
    for each gap of ``old`` that ``new`` no longer has. A resolved event carries what the
    flagged one said (its itinerary's card and classification). ``flagged_at``: when each open
    gap was flagged."""
    before = _gaps(old) if old is not None else {}
    after = _gaps(new)
    events = [_gap(new.itinerary, gid, stop, "open", now_ms, None)
              for gid, stop in after.items() if gid not in before]
    events += [_gap(old.itinerary, gid, stop, "resolved", flagged_at.get(gid, now_ms), now_ms)
               for gid, stop in before.items() if gid not in after and old is not None]
    return tuple(events)


def _gaps(res: Result) -> dict[str, StopResult]:
    it = res.itinerary
    return {gap_id(it.case_id, i, s.venue_id): s for i, s in enumerate(res.stops) if s.gap}


def _gap(it: Itinerary, gid: str, stop: StopResult, status: str, flagged_at_ms: int,
         resolved_at_ms: int | None) -> Gap:
    assert it.card_id is not None  # a stop is a gap only for an itinerary with a card
    return Gap(gid, status, stop.venue_id, it.case_id, it.classification, it.card_id,
               stop.from_s * 1000, stop.to_s * 1000, flagged_at_ms, resolved_at_ms)
