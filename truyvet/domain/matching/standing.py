"""The standing cases of an API process (pure): every case kept, by id and by venue, and which
of them a change of visits may affect."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from truyvet.domain.matching.revisions import Case
from truyvet.domain.matching.rules import DAY_S


class StandingCases:
    def __init__(self) -> None:
        self._cases: dict[str, Case] = {}
        # venue -> case -> the (from, to) seconds of the case's stops there: what a changed
        # bucket is checked against (not every stop of every case that has one stop there)
        self._by_venue: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(dict)
        # venue -> the latest end of a stop there: a change after it (new scans, while the
        # cases' stops are days past) is passed over without looking at the cases
        self._latest_end: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(list(self._cases.values()))

    def get(self, case_id: str) -> Case | None:
        return self._cases.get(case_id)

    def put(self, case: Case) -> None:
        """Keep ``case``, replacing what was kept under its id."""
        case_id = case.itinerary.case_id
        self.drop(case_id)
        self._cases[case_id] = case
        for stop in case.itinerary.stops:
            end = stop.to_ms // 1000
            self._by_venue[stop.venue_id].setdefault(case_id, []).append(
                (stop.from_ms // 1000, end))
            self._latest_end[stop.venue_id] = max(end, self._latest_end.get(stop.venue_id, end))

    def drop(self, case_id: str) -> None:
        previous = self._cases.pop(case_id, None)
        if previous is not None:
            for venue in {stop.venue_id for stop in previous.itinerary.stops}:
                at = self._by_venue[venue]
                gone = at.pop(case_id)
                if not at:
                    del self._by_venue[venue], self._latest_end[venue]
                elif max(t for _, t in gone) >= self._latest_end[venue]:  # it held the latest
                    self._latest_end[venue] = max(t for stops in at.values() for _, t in stops)

    def affected(self, changed: set[tuple[str, int]], tolerance_s: int,
                 longest: dict[str, int]) -> set[str]:
        """Cases with a stop whose window (± tolerance) may meet a changed (venue, day) bucket;
        ``longest``: per venue, its longest visit (a visit starting a day earlier can reach)."""
        days: dict[str, list[int]] = defaultdict(list)
        for venue, day in changed:
            if venue in self._by_venue:
                days[venue].append(day)
        out: set[str] = set()
        for venue, changed_days in days.items():
            reach = longest.get(venue, 0)
            latest = self._latest_end[venue]
            # a stop [f, t] meets bucket ``day`` when f - tol <= (day + 1) * DAY_S + reach
            # and t + tol >= day * DAY_S (so never when every stop there ends before)
            spans = [(day * DAY_S - tolerance_s, (day + 1) * DAY_S + reach + tolerance_s)
                     for day in changed_days if day * DAY_S - tolerance_s <= latest]
            if not spans:
                continue
            for case_id, stops in self._by_venue[venue].items():
                if case_id not in out and any(f <= hi and t >= lo for f, t in stops
                                              for lo, hi in spans):
                    out.add(case_id)
        return out

    def expired(self, now_s: int, retention_s: int) -> list[str]:
        """The ids of the cases submitted more than the retention ago."""
        return [cid for cid, c in self._cases.items() if c.expires_at_s(retention_s) <= now_s]

    def reaching_before(self, cutoff_s: int, tolerance_s: int) -> list[Case]:
        """Cases with a stop whose window reaches back before ``cutoff_s``."""
        return [c for c in self._cases.values()
                if min(st.from_ms for st in c.itinerary.stops) // 1000 - tolerance_s < cutoff_s]
