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

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import cramjam
import orjson

from truyvet.api.tracing.answers import Answer, summary_of
from truyvet.codec.itinerary import Itinerary

ITINERARY_HEADER = "itinerary"  # on a result: the offset of the itinerary version it answers
REVISION_HEADER = "revision"  # on a result: its revision (a record already held is not parsed)
REPLICA_HEADER = "replica"  # on a result: which replica published it (in its process's life)
RESUME_WINDOW_MS = 5 * 60 * 1000  # revisions kept (besides the latest) for reconnecting clients
RESUME_MAX = 16  # revisions kept per case at most

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Said:
    """What a revision's JSON says that is served without it: what the audit counts of its
    whole (stops, contacts) and its default answer."""

    stop_count: int
    contacts: int
    summary: Answer


@dataclass(slots=True, eq=False)
class Shown:
    """One published revision of a case, as served: its JSON whole (``?contacts=all``) and
    what the audit counts of it, and its default answer
    (:mod:`~truyvet.api.tracing.answers`).

    Every replica holds every standing case's latest revision (and its recent ones), so the
    whole JSON is held compressed (lz4, ~6x smaller): ~76 bytes a contact, a megabyte for a
    case at busy venues, would make the cases, not the visit index, a replica's memory. Made
    with :meth:`of` (a revision made here, its counts and answer known) or :meth:`published`
    (read from the topic: the JSON is read when the revision is first served, ~5 ms a
    megabyte, not when it is taken -- a replica starting takes every case's revisions, and
    serves few of them); :attr:`json` is the JSON again (~0.3 ms a megabyte)."""

    case_id: str
    revision: int
    packed: bytes  # the JSON, lz4 block with its size
    answers_offset: int  # the offset of the itinerary version it reflects (-1: not said)
    seen_at_ms: int  # when this replica took it (for the resumption window)
    read: Said | str | None = None  # what the JSON says, or why it cannot be read; None: unread

    @classmethod
    def of(cls, case_id: str, revision: int, json: bytes, stop_count: int, contacts: int,
           summary: Answer, answers_offset: int, seen_at_ms: int) -> Shown:
        return cls(case_id, revision, _packed(json), answers_offset, seen_at_ms,
                   Said(stop_count, contacts, summary))

    @classmethod
    def published(cls, case_id: str, revision: int, json: bytes, answers_offset: int,
                  seen_at_ms: int) -> Shown:
        return cls(case_id, revision, _packed(json), answers_offset, seen_at_ms)

    @property
    def json(self) -> bytes:
        """The revision's JSON whole, as published (``match-result.v1``)."""
        return bytes(cramjam.lz4.decompress_block(self.packed))

    def readable(self) -> bool:
        """Whether its JSON is a result of its case and revision (read now if not yet)."""
        if self.read is None:
            self.read = _said(self.json, self.case_id, self.revision)
        return isinstance(self.read, Said)

    @property
    def said(self) -> Said:
        if not self.readable():
            raise UnreadableResult(f"revision {self.revision} of {self.case_id!r}: {self.read}")
        return self.read  # type: ignore[return-value]

    @property
    def stop_count(self) -> int:
        return self.said.stop_count

    @property
    def contacts(self) -> int:
        return self.said.contacts

    @property
    def summary(self) -> Answer:
        return self.said.summary


class UnreadableResult(ValueError):
    """A revision read from the topic whose JSON is not a result of its case and revision; the
    board never serves one (:meth:`Board.latest`)."""


def _packed(json: bytes) -> bytes:
    return bytes(cramjam.lz4.compress_block(json))


def _said(raw: bytes, case_id: str, revision: int) -> Said | str:
    """What a published result's JSON says, or why it cannot be read."""
    try:
        obj = orjson.loads(raw)
        if obj["case_id"] != case_id or obj["revision"] != revision:
            return (f"it says case {obj['case_id']!r} revision {obj['revision']!r}, its record "
                    f"case {case_id!r} revision {revision}")
        stops = obj["stops"]
        return Said(len(stops), sum(len(stop["contacts"]) for stop in stops), summary_of(obj))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"


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
        """The latest revision published of a standing case, to serve (None: none yet, or no
        case). A revision that turns out unreadable is let go (and said in the log): the one
        before it is the latest, as if the unreadable one had never come."""
        e = self._entries.get(case_id)
        if e is None or e.itinerary is None or not e.revisions:
            return None
        while e.revisions and not _kept(e.revisions[-1]):
            e.revisions.pop()
        return e.latest

    def held(self, case_id: str) -> Shown | None:
        """The latest revision taken of a case, not read: which revision it has, and its JSON
        to compare or decode (not to serve: :meth:`latest`)."""
        e = self._entries.get(case_id)
        return e.latest if e is not None else None

    def cases(self) -> Iterator[Itinerary]:
        """The itinerary of every standing case (its revision: :meth:`latest`)."""
        return iter([e.itinerary for e in self._entries.values() if e.itinerary is not None])

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

    def takes(self, case_id: str, revision: int) -> bool:
        """Whether a revision read from the topic is new here: later than the latest held, or
        the same revision again while the one held is not read yet. Replicas never publish a
        revision twice, so a second record of it follows one that was unreadable (its owner
        answered the case again from the revision before): the later record replaces it."""
        e = self._entries.get(case_id)
        latest = e.latest if e is not None else None
        return latest is None or revision > latest.revision or (
            revision == latest.revision and latest.read is None)

    def put_revision(self, shown: Shown) -> bool:
        """A published revision; False when this revision (or a later one) is held already.
        Revisions older than :data:`RESUME_WINDOW_MS`, or beyond :data:`RESUME_MAX`, are let
        go, the latest always kept. A revision not read yet that would be the only one left is
        read first: one unreadable is not taken (False), the ones before it stay."""
        if not self.takes(shown.case_id, shown.revision):
            return False
        e = self._entries.setdefault(shown.case_id, Entry())
        if e.revisions is None:
            e.revisions = deque()
        revs = e.revisions
        if revs and revs[-1].revision == shown.revision:
            revs.pop()  # the same revision again, the one held not read yet: this one
        revs.append(shown)
        gone = 0
        while gone < len(revs) - 1 and (len(revs) - gone > RESUME_MAX or
                                        revs[gone].seen_at_ms < shown.seen_at_ms - RESUME_WINDOW_MS):
            gone += 1
        if 0 < gone == len(revs) - 1 and not _kept(shown):
            revs.pop()
            return False
        for _ in range(gone):
            revs.popleft()
        return True

    def revision(self, case_id: str, revision: int) -> Shown | None:
        """That revision of a standing case, while it is held."""
        e = self._entries.get(case_id)
        if e is None or e.itinerary is None or not e.revisions:
            return None
        found = next((r for r in e.revisions if r.revision == revision), None)
        if found is not None and not _kept(found):
            e.revisions.remove(found)
            return None
        return found

    def since(self, case_id: str, revision: int) -> list[Shown]:
        """The revisions after ``revision`` still held, oldest first; when the ones right
        after it are gone already, the latest alone (it supersedes them: each is whole)."""
        e = self._entries.get(case_id)
        if e is None or not e.revisions:
            return []
        later = [r for r in e.revisions if r.revision > revision]
        for r in [r for r in later if not _kept(r)]:
            e.revisions.remove(r)
            later.remove(r)
        if later and later[0].revision != revision + 1:
            return later[-1:]
        return later

    def drop(self, case_id: str) -> None:
        self._entries.pop(case_id, None)

    def expired(self, cutoff_ms: int) -> list[str]:
        """The cases whose itinerary was submitted before ``cutoff_ms`` (past the retention)."""
        return [cid for cid, e in self._entries.items()
                if e.itinerary is not None and (e.itinerary.submitted_at_ms or 0) < cutoff_ms]


def _kept(shown: Shown) -> bool:
    """Whether a revision may be served; one that cannot is said in the log (its record is
    still in the topic, for whoever looks into it)."""
    if shown.readable():
        return True
    log.error("result of %s revision %d unreadable, not served: %s", shown.case_id,
              shown.revision, shown.read)
    return False
