from __future__ import annotations

from truyvet.codec import venue as venue_codec
from truyvet.codec.alert import Alert
from truyvet.codec.compliance import Coverage, DayFigures, GapStatus, HourFigures
from truyvet.codec.inspection import Inspection
from truyvet.codec.timefmt import parse_ms
from truyvet.domain.compliance.figures import VenueRecords, combine, risk, venue_figures
from truyvet.domain.localtime import local_day

MON = parse_ms("2026-11-16T00:00:00+07:00") // 1000  # a Monday, local midnight
CAFE = venue_codec.from_mapping({
    "venue_id": "V", "name": "Cà phê", "district": "Thành phố Huế", "ward": "Phú Hội",
    "category": "cafe", "opening_hours": {"mon": ["08:00-12:00"]}, "scanning_points": 1,
    "staff_count": 1})


def hour(h: int, scans_in: int, out: int, card: int, qr: int = 0, heard: int = 1) -> HourFigures:
    return HourFigures("V", h, scans_in, out, card, scans_in + out - card - qr, qr, scans_in,
                       heard, 0)


def records() -> VenueRecords:
    r = VenueRecords()
    first = (MON + 8 * 3600) // 3600
    r.hours = {first: hour(first, 10, 8, 18), first + 1: hour(first + 1, 6, 0, 4, qr=2),
               first + 2: hour(first + 2, 0, 0, 0, heard=0)}
    r.days = {local_day(MON): DayFigures("V", local_day(MON), 16, 8)}
    r.coverage = {"hc": Coverage("V", "hc", (MON + 8 * 3600) * 1000, (MON + 9 * 3600) * 1000,
                                 "door_counter", 40, 16)}
    r.gaps = {"g1": gap("g1", MON + 9 * 3600, None),
              "g2": gap("g2", MON + 9 * 3600, MON + 10 * 3600)}
    return r


def gap(gap_id: str, flagged_s: int, resolved_s: int | None) -> GapStatus:
    return GapStatus("V", gap_id, "open" if resolved_s is None else "resolved", "case",
                     MON * 1000, MON * 1000, flagged_s * 1000,
                     None if resolved_s is None else resolved_s * 1000)


def alert(at_s: int) -> Alert:
    return Alert("a", "V", "silent", at_s * 1000, "")


def inspection(at_s: int, outcome: str) -> Inspection:
    return Inspection("V", "insp", at_s * 1000, (at_s + 600) * 1000, 1, 1, 1, outcome)


def test_a_venue_over_a_day() -> None:
    f = venue_figures(CAFE, records(), MON, MON + 86_400, alerts=[alert(MON + 3600)],
                      inspections=[inspection(MON + 9 * 3600, "reminded")])
    assert (f.scans_in, f.scans_out, f.venue_qr, f.card) == (16, 8, 2, 22)
    assert f.open_hours == 4 and f.silent_open_hours == 2  # 10:00 heard nothing, 11:00 no record
    assert f.coverage == 0.4 and f.exit_share == 0.5
    assert (f.gaps_flagged, f.gaps_resolved, f.gaps_open) == (2, 1, 1)
    assert f.alerts == 1 and f.inspections == 1 and f.outcomes == {"reminded": 1}
    score, reasons = risk(f)
    assert score > 0 and set(reasons) >= {"gaps", "low_coverage", "silent", "venue_qr"}


def test_a_period_excludes_what_is_outside_it() -> None:
    f = venue_figures(CAFE, records(), MON + 9 * 3600, MON + 10 * 3600)
    assert (f.scans_in, f.open_hours, f.headcounts) == (6, 1, 0)
    assert (f.gaps_flagged, f.gaps_resolved) == (2, 0)


def test_groups_add_counts_and_derive_rates_from_sums() -> None:
    a = venue_figures(CAFE, records(), MON, MON + 86_400)
    b = venue_figures(CAFE, VenueRecords(), MON, MON + 86_400)
    total = combine([a, b])
    assert total.venues == 2 and total.venues_scanning == 1
    assert total.people_counted == 40 and total.coverage == 0.4
    assert total.open_hours == 8 and total.silent_open_hours == 6
    assert risk(b)[1] == ["silent", "not_scanning"]


def test_hours_before_the_system_watched_are_not_silent() -> None:
    watched_from = MON + 10 * 3600  # the compliance job's first record
    f = venue_figures(CAFE, records(), MON, MON + 86_400, observed_from_s=watched_from)
    assert f.open_hours == 2 and f.silent_open_hours == 2  # 10:00 and 11:00 only, both silent
    assert venue_figures(CAFE, records(), MON, MON + 86_400, observed_from_s=None).open_hours == 0


def test_hours_not_read_yet_are_not_silent() -> None:
    """The newest hour anyone was heard in bounds the evidence: later open hours have not been
    read yet (a pipeline behind, a backfill half published), so they are not silent."""
    newest = MON + 10 * 3600  # the newest hour with a record starts at 10:00 (partial)
    f = venue_figures(CAFE, records(), MON, MON + 86_400, observed_to_s=newest)
    assert f.open_hours == 2 and f.silent_open_hours == 0  # 08:00 and 09:00, both heard


def test_a_headcount_not_read_past_yet_is_not_low_coverage() -> None:
    """A door counter's report for 08:00-09:00 is compared with the scans of that span only once
    the evidence is read past it: before, the scans may not all be counted (the inspection
    queue once ranked a compliant cafe for "low coverage" while its scans were being read)."""
    assert venue_figures(CAFE, records(), MON, MON + 86_400,
                         observed_to_s=MON + 8 * 3600 + 1800).headcounts == 0
    read = venue_figures(CAFE, records(), MON, MON + 86_400, observed_to_s=MON + 9 * 3600)
    assert (read.headcounts, read.people_counted, read.people_scanned) == (1, 40, 16)


def test_exit_scans_are_judged_on_whole_days_only() -> None:
    during = venue_figures(CAFE, records(), MON, MON + 20 * 3600)  # the day is not over
    assert during.cards_in == 0 and during.exit_share is None
    assert venue_figures(CAFE, records(), MON, MON + 86_400).exit_share == 0.5


def test_a_quiet_venue_whose_scanner_beats_is_not_called_not_scanning() -> None:
    from truyvet.domain.compliance.figures import Figures

    quiet = Figures(venues=1, open_hours=3, silent_open_hours=0)
    assert "not_scanning" not in risk(quiet)[1]
    assert "not_scanning" in risk(Figures(venues=1, open_hours=3, silent_open_hours=3))[1]
    assert "not_scanning" in risk(Figures(venues=1, open_hours=3, venue_qr=4))[1]
    assert "not_scanning" in risk(Figures(venues=1, open_hours=3, people_counted=9))[1]
