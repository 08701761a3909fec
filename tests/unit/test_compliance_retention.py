"""The compliance job's state and the API's compliance views forget what is past the
retention: gap records (they name the case), the alerts raised, headcounts, hours and days."""

from __future__ import annotations

from truyvet.codec.compliance import Coverage, DayFigures, GapStatus, HourFigures
from truyvet.codec.gap import Gap
from truyvet.domain.compliance.alerts import Compliance
from truyvet.domain.compliance.figures import VenueRecords
from truyvet.domain.localtime import day_start_s, local_day

RETENTION_S = 21 * 86_400
NOW = 1_764_000_123  # not on an hour: a record ending exactly at the cutoff is kept
CUTOFF = NOW - RETENTION_S


def _gap(gap_id: str, flagged_s: int) -> Gap:
    return Gap(gap_id, "open", "V", "case-" + gap_id, "F0", "card-" + gap_id,
               flagged_s * 1000 - 3_600_000, flagged_s * 1000 - 1_800_000, flagged_s * 1000)


def test_the_jobs_state_forgets_gaps_and_raised_alerts_past_the_retention() -> None:
    c = Compliance(RETENTION_S)
    c.add_gap(_gap("old", CUTOFF - 1))
    c.add_gap(_gap("new", CUTOFF + 1))
    c.raised = {"V/gaps/old": (CUTOFF - 1) * 1000, "V/gaps/new": (CUTOFF + 1) * 1000}
    c.purge(NOW)
    assert set(c.venue("V").gaps) == {"new"}
    assert set(c.raised) == {"V/gaps/new"}


def test_the_apis_records_forget_what_ended_before_the_cutoff() -> None:
    r = VenueRecords()
    hour = CUTOFF // 3600
    r.hours = {h: HourFigures("V", h, 1, 0, 1, 0, 0, 1, 1, 0) for h in (hour - 1, hour + 1)}
    day = local_day(CUTOFF)
    r.days = {d: DayFigures("V", d, 1, 1) for d in (day - 1, day)}
    r.coverage = {k: Coverage("V", k, (t - 600) * 1000, t * 1000, "door_counter", 4, 4)
                  for k, t in (("old", CUTOFF - 1), ("new", CUTOFF + 1))}
    r.gaps = {k: GapStatus("V", k, "open", "case-" + k, 0, 0, t * 1000, None)
              for k, t in (("old", CUTOFF - 1), ("new", CUTOFF + 1))}
    assert r.expire(CUTOFF) == 4
    assert set(r.hours) == {hour + 1} and set(r.days) == {day}  # the cutoff's day has not ended
    assert day_start_s(day + 1) > CUTOFF
    assert set(r.coverage) == set(r.gaps) == {"new"}
    assert not r.empty
    r.expire(NOW + 10 * 86_400)
    assert r.empty
