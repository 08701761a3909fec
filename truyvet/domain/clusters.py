"""Clusters (ổ dịch): two or more F0 cases whose declared stops meet at one venue (pure).

Two F0 stops at the same venue *meet* when, under the window (``TRUYVET_CLUSTER_WINDOW``):

- ``day`` (the default): they share a local day (Vietnam time; a stop past midnight is on both
  days);
- a duration (``90m``, ``2h``, ``0``): the time between them is at most that (``0``: they
  overlap or touch).

Meeting is chained: the stops at a venue that meet, directly or through others, are one
cluster when they belong to two cases or more. A cluster is named by its venue and where it
begins (``venue@2021-12-06`` by day, ``venue@2021-12-06T19:00`` by duration, local time), so
its name changes only when an earlier stop joins it (the old name is then removed).

F1 itineraries are contacts' own movements and form no cluster (the directive's F0 is the
case; its F1 the contact). :class:`ClusterBook` keeps every standing case's F0 stops by venue
and, when a case is put or removed, recomputes the clusters of the venues it touched, saying
which clusters are new or changed and which are gone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple
from dataclasses import dataclass, field

from truyvet.codec.itinerary import Itinerary
from truyvet.domain import localtime

FORMS = "F0"  # the classification whose stops form clusters
_DURATION = re.compile(r"(\d+)\s*(m|min|h)?")


@dataclass(frozen=True)
class Window:
    """When two stops at one venue meet: the same local day, or at most ``gap_s`` apart."""

    same_day: bool
    gap_s: int = 0

    def text(self) -> str:
        if self.same_day:
            return "day"
        return f"{self.gap_s // 3600}h" if self.gap_s % 3600 == 0 and self.gap_s else \
            f"{self.gap_s // 60}m"


def parse_window(spec: str) -> Window:
    """``day``, or minutes / hours (``90m``, ``90``, ``2h``, ``0``); ValueError otherwise."""
    spec = spec.strip().lower()
    if spec in ("day", "same-day", "same_day"):
        return Window(True)
    m = _DURATION.fullmatch(spec)
    if m is None:
        raise ValueError(f"a cluster window is 'day' or a duration such as 90m or 2h, not "
                         f"{spec!r}")
    n = int(m.group(1))
    return Window(False, n * 3600 if m.group(2) == "h" else n * 60)


class Member(NamedTuple):
    """One F0 stop in a cluster: the case, the stop's place in its itinerary, its span
    (a tuple: compared and sorted in C, hundreds at a busy venue each time it changes)."""

    from_ms: int
    to_ms: int
    case_id: str
    stop: int  # 0-based, in the itinerary as submitted


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    venue_id: str
    from_ms: int  # the earliest member's start
    to_ms: int  # the latest member's end
    members: tuple[Member, ...]  # ordered by start

    @property
    def cases(self) -> tuple[str, ...]:
        """The distinct cases, in order of their first stop here."""
        return tuple(dict.fromkeys(m.case_id for m in self.members))


@dataclass
class Changes:
    """What one put or removal did: clusters new or changed (whole), and names gone."""

    put: list[Cluster] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.put or self.removed)


def clusters_at(venue_id: str, members: Iterable[Member], window: Window) -> list[Cluster]:
    """The clusters among one venue's F0 stops, earliest first."""
    out: list[Cluster] = []
    group: list[Member] = []
    reach = 0  # how far the group reaches: a local day, or a time in ms plus the gap
    for m in sorted(members):
        start, end = _span(m, window)
        if group and start > reach:
            _close(venue_id, group, window, out)
            group = []
        if not group:
            reach = end
        group.append(m)
        reach = max(reach, end)
    if group:
        _close(venue_id, group, window, out)
    return out


def _span(m: Member, window: Window) -> tuple[int, int]:
    """Where a stop starts and how far it reaches, in the window's unit."""
    if window.same_day:
        last_ms = max(m.from_ms, m.to_ms - 1)  # a stop ending at midnight is not on the next day
        return localtime.local_day(m.from_ms // 1000), localtime.local_day(last_ms // 1000)
    return m.from_ms, m.to_ms + window.gap_s * 1000


def _close(venue_id: str, group: list[Member], window: Window, out: list[Cluster]) -> None:
    if len({m.case_id for m in group}) < 2:
        return
    first = group[0].from_ms
    local = localtime.format_local(first)
    name = local[:10] if window.same_day else local[:16]
    out.append(Cluster(f"{venue_id}@{name}", venue_id, first, max(m.to_ms for m in group),
                       tuple(group)))


class ClusterBook:
    """The clusters of every standing case, kept as cases come, change and go."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self._stops: dict[str, dict[str, list[Member]]] = defaultdict(dict)  # venue -> case ->
        self._venues: dict[str, frozenset[str]] = {}  # case -> venues of its F0 stops
        self._clusters: dict[str, dict[str, Cluster]] = {}  # venue -> name -> cluster

    def __len__(self) -> int:
        return sum(len(c) for c in self._clusters.values())

    def clusters(self) -> list[Cluster]:
        """Every cluster, newest first."""
        return sorted((c for by in self._clusters.values() for c in by.values()),
                      key=lambda c: (-c.from_ms, c.cluster_id))

    def get(self, cluster_id: str) -> Cluster | None:
        venue = cluster_id.rpartition("@")[0]
        return self._clusters.get(venue, {}).get(cluster_id)

    def of_case(self, case_id: str) -> list[Cluster]:
        return [c for v in sorted(self._venues.get(case_id, ()))
                for c in self._clusters.get(v, {}).values() if case_id in c.cases]

    def put(self, it: Itinerary) -> Changes:
        """A case's current itinerary (a new case, or a new version of one)."""
        return self._recompute(self._place(it))

    def remove(self, case_id: str) -> Changes:
        """A case gone (past the retention)."""
        return self._recompute(self._drop(case_id))

    def update(self, cases: dict[str, Itinerary | None]) -> Changes:
        """Many cases at once, each its current itinerary or None (gone): what putting and
        removing them one by one leaves, each venue they touch recomputed once."""
        return self.recompute(self.place(cases))

    def place(self, cases: dict[str, Itinerary | None]) -> set[str]:
        """:meth:`update`'s first half: the cases filed, their venues' clusters not yet
        recomputed (until :meth:`recompute` of the venues this returns, :meth:`clusters` says
        what they were)."""
        touched: set[str] = set()
        for case_id, it in cases.items():
            touched |= self._drop(case_id) if it is None else self._place(it)
        return touched

    def recompute(self, venues: Iterable[str]) -> Changes:
        """The clusters of these venues made again from the stops filed there."""
        return self._recompute(venues)

    def _place(self, it: Itinerary) -> frozenset[str]:
        """The case's stops filed; the venues whose clusters may have changed."""
        if it.classification != FORMS:
            return self._drop(it.case_id)  # reclassified F1: its stops no longer count
        mine: dict[str, list[Member]] = defaultdict(list)
        for i, stop in enumerate(it.stops):
            mine[stop.venue_id].append(Member(stop.from_ms, stop.to_ms, it.case_id, i))
        before = self._venues.get(it.case_id, frozenset())
        for venue in before - mine.keys():
            self._stops[venue].pop(it.case_id, None)
        for venue, members in mine.items():
            self._stops[venue][it.case_id] = members
        self._venues[it.case_id] = frozenset(mine)
        return before | mine.keys()

    def _drop(self, case_id: str) -> frozenset[str]:
        before = self._venues.pop(case_id, frozenset())
        for venue in before:
            self._stops[venue].pop(case_id, None)
        return before

    def _recompute(self, venues: Iterable[str]) -> Changes:
        changes = Changes()
        for venue in sorted(venues):
            by_case = self._stops.get(venue, {})
            now = {c.cluster_id: c for c in clusters_at(
                venue, (m for members in by_case.values() for m in members), self.window)}
            was = self._clusters.get(venue, {})
            changes.removed += [name for name in was if name not in now]
            changes.put += [c for name, c in now.items() if was.get(name) != c]
            if now:
                self._clusters[venue] = now
            else:
                self._clusters.pop(venue, None)
            if not by_case:
                self._stops.pop(venue, None)
        return changes
