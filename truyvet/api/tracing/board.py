"""Every standing case as every API replica shows it (pure state; the service feeds it).

Each replica answers reads, watches and submissions of *any* case, but re-matches only the
cases of the ``itineraries.v1`` partitions Kafka assigned to it (``truyvet.api.tracing.owners``).
So each keeps this board of all cases, from two topics it follows whole:

- from ``itineraries.v1``: the latest version of each case's itinerary, the partition it is in
  and the offset of that version's record (who may see or replace the case; which version an
  answer must reflect);
- from ``match-results.v1``: the revisions its owner published, each with the offset of the
  itinerary version it answers (the record header ``itinerary``), kept for a short while so a
  client reconnecting to another replica with ``Last-Event-ID`` gets every revision it missed.

A record already applied (the same offset or an older one, the same revision or an older one)
changes nothing: a replica applies what it published itself at once (read your own writes)
and again when its follower brings it back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import cramjam

from truyvet.api.tracing.answers import Answer
from truyvet.codec.itinerary import Itinerary

ITINERARY_HEADER = "itinerary"  # on a result: the offset of the itinerary version it answers
REVISION_HEADER = "revision"  # on a result: its revision (a record already held is not parsed)
RESUME_WINDOW_MS = 5 * 60 * 1000  # revisions kept (besides the latest) for reconnecting clients
RESUME_MAX = 16  # revisions kept per case at most


@dataclass(frozen=True, slots=True)
class Shown:
    """One published revision of a case, as served: its JSON whole (``?contacts=all``) and
    what the audit counts of it, and its default answer
    (:mod:`~truyvet.api.tracing.answers`).

    Every replica holds every standing case's latest revision (and its recent ones), so the
    whole JSON is held compressed (lz4, ~6x smaller): ~76 bytes a contact, a megabyte for a
    case at busy venues, would make the cases, not the visit index, a replica's memory. Made
    with :meth:`of`; :attr:`json` is the JSON again (~0.3 ms a megabyte)."""

    case_id: str
    revision: int
    packed: bytes  # the JSON, lz4 block with its size
    stop_count: int
    contacts: int
    summary: Answer
    answers_offset: int  # the offset of the itinerary version it reflects (-1: not said)
    seen_at_ms: int  # when this replica took it (for the resumption window)

    @classmethod
    def of(cls, case_id: str, revision: int, json: bytes, stop_count: int, contacts: int,
           summary: Answer, answers_offset: int, seen_at_ms: int) -> Shown:
        return cls(case_id, revision, bytes(cramjam.lz4.compress_block(json)), stop_count,
                   contacts, summary, answers_offset, seen_at_ms)

    @property
    def json(self) -> bytes:
        """The revision's JSON whole, as published (``match-result.v1``)."""
        return bytes(cramjam.lz4.decompress_block(self.packed))


@dataclass(slots=True)
class Entry:
    itinerary: Itinerary | None = None
    partition: int = -1
    offset: int = -1  # of the itinerary version held
    revisions: deque[Shown] | None = None  # oldest first; the last is the latest

    @property
    def latest(self) -> Shown | None:
        return self.revisions[-1] if self.revisions else None


class Board:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def __len__(self) -> int:
        return sum(1 for e in self._entries.values() if e.itinerary is not None)

    def itinerary(self, case_id: str) -> Itinerary | None:
        e = self._entries.get(case_id)
        return e.itinerary if e else None

    def entry(self, case_id: str) -> Entry | None:
        return self._entries.get(case_id)

    def latest(self, case_id: str) -> Shown | None:
        """The latest revision published of a standing case (None: none yet, or no case)."""
        e = self._entries.get(case_id)
        return e.latest if e is not None and e.itinerary is not None else None

    def standing(self) -> Iterator[tuple[Itinerary, Shown | None]]:
        """Every standing case: its itinerary and its latest revision (None: not answered)."""
        return iter([(e.itinerary, e.latest) for e in self._entries.values()
                     if e.itinerary is not None])

    def in_partition(self, partition: int) -> Iterator[str]:
        """The ids of the standing cases of one partition of ``itineraries.v1``."""
        return iter([cid for cid, e in self._entries.items()
                     if e.partition == partition and e.itinerary is not None])

    # --- applying records ------------------------------------------------------------------
    def put_itinerary(self, it: Itinerary, partition: int, offset: int) -> bool:
        """A version of an itinerary (from its record, or acknowledged just now); False when
        it is not newer than the one held."""
        e = self._entries.setdefault(it.case_id, Entry())
        if offset <= e.offset:
            return False
        e.itinerary, e.partition, e.offset = it, partition, offset
        return True

    def put_revision(self, shown: Shown) -> bool:
        """A published revision; False when this revision (or a later one) is held already.
        Revisions older than :data:`RESUME_WINDOW_MS`, or beyond :data:`RESUME_MAX`, are let
        go, the latest always kept."""
        e = self._entries.setdefault(shown.case_id, Entry())
        if e.revisions is None:
            e.revisions = deque()
        latest = e.latest
        if latest is not None and shown.revision <= latest.revision:
            return False
        e.revisions.append(shown)
        while len(e.revisions) > 1 and (
                len(e.revisions) > RESUME_MAX
                or e.revisions[0].seen_at_ms < shown.seen_at_ms - RESUME_WINDOW_MS):
            e.revisions.popleft()
        return True

    def revision(self, case_id: str, revision: int) -> Shown | None:
        """That revision of a standing case, while it is held."""
        e = self._entries.get(case_id)
        if e is None or e.itinerary is None or not e.revisions:
            return None
        return next((r for r in e.revisions if r.revision == revision), None)

    def since(self, case_id: str, revision: int) -> list[Shown]:
        """The revisions after ``revision`` still held, oldest first; when the ones right
        after it are gone already, the latest alone (it supersedes them: each is whole)."""
        e = self._entries.get(case_id)
        if e is None or not e.revisions:
            return []
        later = [r for r in e.revisions if r.revision > revision]
        if later and later[0].revision != revision + 1:
            return later[-1:]
        return later

    def drop(self, case_id: str) -> None:
        self._entries.pop(case_id, None)

    def expired(self, cutoff_ms: int) -> list[str]:
        """The cases whose itinerary was submitted before ``cutoff_ms`` (past the retention)."""
        return [cid for cid, e in self._entries.items()
                if e.itinerary is not None and (e.itinerary.submitted_at_ms or 0) < cutoff_ms]
