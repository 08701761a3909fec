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
        self._by_venue: dict[str, set[str]] = defaultdict(set)

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
            self._by_venue[stop.venue_id].add(case_id)

    def drop(self, case_id: str) -> None:
        previous = self._cases.pop(case_id, None)
        if previous is not None:
            for stop in previous.itinerary.stops:
                self._by_venue[stop.venue_id].discard(case_id)

    def affected(self, changed: set[tuple[str, int]], tolerance_s: int,
                 longest: dict[str, int]) -> set[str]:
        """Cases with a stop whose window (± tolerance) may meet a changed (venue, day) bucket;
        ``longest``: per venue, its longest visit (a visit starting a day earlier can reach)."""
        out = set()
        for venue, day in changed:
            case_ids = self._by_venue.get(venue)
            if not case_ids:
                continue
            lo = day * DAY_S
            hi = (day + 1) * DAY_S + longest.get(venue, 0)
            for case_id in case_ids:
                for stop in self._cases[case_id].itinerary.stops:
                    if (stop.venue_id == venue and stop.from_ms // 1000 - tolerance_s <= hi
                            and stop.to_ms // 1000 + tolerance_s >= lo):
                        out.add(case_id)
                        break
        return out

    def expired(self, now_s: int, retention_s: int) -> list[str]:
        """The ids of the cases submitted more than the retention ago."""
        return [cid for cid, c in self._cases.items() if c.expires_at_s(retention_s) <= now_s]

    def reaching_before(self, cutoff_s: int, tolerance_s: int) -> list[Case]:
        """Cases with a stop whose window reaches back before ``cutoff_s``."""
        return [c for c in self._cases.values()
                if min(st.from_ms for st in c.itinerary.stops) // 1000 - tolerance_s < cutoff_s]
