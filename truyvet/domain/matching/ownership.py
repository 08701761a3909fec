"""Who may see and change a case (pure).

A case belongs to the principal who opened it (``opened_by``), or, when teams own cases
(``TRUYVET_CASE_OWNER=team``), to that principal's team (``team``): any of its tracers stands
for the owner. Only its owner may replace it, and a replacement is a new version of the
itinerary (the route audits it with the previous one). Others may read or watch it when a supervisor shared it with them; supervisors (and the
admin) read every case, and share. An identical submission changes nothing: no new version,
no new revision, and the case's retention, which runs from when its current stops were
submitted, does not move; a submission that changes only the classification or the card keeps
that time too, one that changes the stops starts it again (they are new data, declared then).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from truyvet.codec.itinerary import MAX_SHARED, Itinerary

READ_ALL = frozenset({"supervisor", "admin"})  # roles that read every case, and share


class Outcome(StrEnum):
    OPENED = "opened"  # a new case, owned by the submitter
    REPLACED = "replaced"  # its owner's new version
    UNCHANGED = "unchanged"  # identical to the current version: nothing happens
    NOT_OWNER = "not_owner"  # another principal's case: refused (403)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: a principal's name, roles and team (``team`` only when teams own cases)."""

    name: str
    roles: frozenset[str] = frozenset()
    team: str | None = None


def owns(it: Itinerary, who: Caller) -> bool:
    return who.name == it.owner or (who.team is not None and who.team == it.team)


@dataclass(frozen=True, slots=True)
class Submission:
    outcome: Outcome
    itinerary: Itinerary | None  # the version to record; None when nothing is recorded
    previous: Itinerary | None  # the version it replaces (or would have)


def submit(current: Itinerary | None, body: Itinerary, by: Caller | str,
           now_ms: int) -> Submission:
    """What a submission of ``body`` by ``by`` does to the case's ``current`` version (None:
    no standing case of that id)."""
    who = by if isinstance(by, Caller) else Caller(by)
    if current is None:
        return Submission(Outcome.OPENED, replace(
            body, submitted_at_ms=now_ms, submitted_by=who.name, opened_by=who.name,
            shared_with=(), team=who.team), None)
    if not owns(current, who):
        return Submission(Outcome.NOT_OWNER, None, current)
    same_stops = body.stops == current.stops
    if same_stops and (body.classification, body.card_id) == (current.classification,
                                                              current.card_id):
        return Submission(Outcome.UNCHANGED, None, current)
    since = current.submitted_at_ms if same_stops else now_ms
    return Submission(Outcome.REPLACED, replace(
        body, submitted_at_ms=since, submitted_by=who.name, opened_by=current.owner,
        shared_with=current.shared_with, team=current.team), current)


def same_owner(a: Itinerary, b: Itinerary) -> bool:
    """Whether ``b`` may follow ``a`` as a version of the same case: the same owner (a version
    recorded by a replica that did not know of ``a`` yet names another)."""
    return (a.owner, a.team) == (b.owner, b.team)


def only_shares_differ(a: Itinerary, b: Itinerary) -> bool:
    """Whether ``b`` is ``a`` shared with other principals, and nothing else changed (its
    result and revision stay)."""
    return a != b and replace(a, shared_with=b.shared_with) == b


def may_see(it: Itinerary, who: Caller) -> bool:
    return owns(it, who) or who.name in it.shared_with or bool(who.roles & READ_ALL)


def may_share(roles: frozenset[str]) -> bool:
    return bool(roles & READ_ALL)


def shared(it: Itinerary, with_name: str) -> Itinerary:
    """The case shared with one more principal (no change when it already is, or opened it).
    Raises ``ValueError`` past the limit of the record."""
    if with_name == it.owner or with_name in it.shared_with:
        return it
    if len(it.shared_with) >= MAX_SHARED:
        raise ValueError(f"a case is shared with at most {MAX_SHARED} principals")
    return replace(it, shared_with=(*it.shared_with, with_name))
