"""Venue compliance over a period, from the compliance job's records (pure).

One function computes a venue's figures (:func:`venue_figures`); groups (district, category,
the whole province) add venues' figures up (:func:`combine`) and derive the rates from the
sums, so that a district's coverage is people scanned / people counted over all its venues,
not an average of averages. The API, the dashboard and ``truyvet report`` all use these, so
their numbers are the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from truyvet.codec.alert import COMPLIANCE_KINDS, Alert
from truyvet.codec.compliance import (
    ComplianceRecord,
    Coverage,
    DayFigures,
    GapStatus,
    HourFigures,
)
from truyvet.codec.inspection import Inspection
from truyvet.codec.venue import Venue
from truyvet.domain.localtime import DAY_S, day_start_s, local_day
from truyvet.domain.venues import is_open_at

HOUR_S = 3600
# Fewer cards than this in a period say nothing about exit scanning: early in a day most
# visitors are still inside.
MIN_EXIT_SAMPLE = 30


@dataclass
class VenueRecords:
    """The compliance job's latest records of one venue, by kind and id."""

    hours: dict[int, HourFigures] = field(default_factory=dict)  # epoch hour -> record
    days: dict[int, DayFigures] = field(default_factory=dict)  # local day -> record
    coverage: dict[str, Coverage] = field(default_factory=dict)  # headcount_id -> record
    gaps: dict[str, GapStatus] = field(default_factory=dict)  # gap_id -> record

    @property
    def empty(self) -> bool:
        return not (self.hours or self.days or self.coverage or self.gaps)

    def expire(self, cutoff_s: int) -> int:
        """Forget what is past the retention (as the compliance topic does): hours and days
        that ended, headcounts whose span ended, gaps flagged before ``cutoff_s``. Returns how
        many records were forgotten."""
        gone = 0
        for table, ended in ((self.hours, lambda h, _: (h + 1) * HOUR_S),
                             (self.days, lambda d, _: day_start_s(d + 1)),
                             (self.coverage, lambda _, c: c.to_ms // 1000),
                             (self.gaps, lambda _, g: g.flagged_at_ms // 1000)):
            old = [k for k, r in table.items() if ended(k, r) < cutoff_s]  # type: ignore[operator]
            for k in old:
                del table[k]  # type: ignore[attr-defined]
            gone += len(old)
        return gone

    def apply(self, r: ComplianceRecord) -> None:
        """The latest record of its (kind, id) replaces the one before."""
        if isinstance(r, HourFigures):
            self.hours[r.hour] = r
        elif isinstance(r, DayFigures):
            self.days[r.day] = r
        elif isinstance(r, Coverage):
            self.coverage[r.headcount_id] = r
        else:
            self.gaps[r.gap_id] = r


@dataclass
class Figures:
    """Additive figures of one venue or a group of venues over a period."""

    venues: int = 0
    venues_scanning: int = 0  # with at least one staff scan (card or app) in the period
    scans_in: int = 0
    scans_out: int = 0
    card: int = 0
    app: int = 0
    venue_qr: int = 0
    cards_in: int = 0  # distinct cards scanned in, per day, summed
    cards_in_out: int = 0  # of those, also scanned out that day
    open_hours: int = 0
    entrance_hours: int = 0  # registered scanning points x hours open and heard
    silent_open_hours: int = 0  # open, no scan and no scanner heartbeat
    # open and heard, but fewer scanners heard than registered scanning points: the entrances
    # not scanned, summed over those hours; and the most of them in any one hour (per venue;
    # a group sums its venues')
    silent_entrance_hours: int = 0
    silent_entrances: int = 0
    people_counted: int = 0
    people_scanned: int = 0
    headcounts: int = 0
    gaps_flagged: int = 0
    gaps_resolved: int = 0
    gaps_open: int = 0  # flagged in the period and not resolved by its end
    alerts: int = 0
    inspections: int = 0
    venues_inspected: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            if f.name == "outcomes":
                for k, v in other.outcomes.items():
                    self.outcomes[k] = self.outcomes.get(k, 0) + v
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    # derived rates (None when undefined)
    @property
    def coverage(self) -> float | None:
        return _ratio(self.people_scanned, self.people_counted)

    @property
    def exit_share(self) -> float | None:
        return _ratio(self.cards_in_out, self.cards_in)

    @property
    def scans_per_open_hour(self) -> float | None:
        return _ratio(self.scans_in + self.scans_out, self.open_hours)

    @property
    def venue_qr_share(self) -> float | None:
        return _ratio(self.venue_qr, self.card + self.app + self.venue_qr)

    @property
    def silent_share(self) -> float | None:
        return _ratio(self.silent_open_hours, self.open_hours)

    @property
    def silent_entrance_share(self) -> float | None:
        """Of the hours a venue was open and heard, the share of its registered entrances
        not heard (the hour's missing entrances / its registered points, averaged over them)."""
        return _ratio(self.silent_entrance_hours, self.entrance_hours)

    def to_mapping(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(coverage=_round(self.coverage), exit_share=_round(self.exit_share),
                   scans_per_open_hour=_round(self.scans_per_open_hour, 1),
                   venue_qr_share=_round(self.venue_qr_share),
                   silent_share=_round(self.silent_share),
                   silent_entrance_share=_round(self.silent_entrance_share))
        return out


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def venue_figures(
    venue: Venue | None, records: VenueRecords, frm_s: int, to_s: int,
    alerts: Iterable[Alert] = (), inspections: Iterable[Inspection] = (),
    observed_from_s: int | None = 0, observed_to_s: int | None = None,
) -> Figures:
    """A venue's figures for the period [frm_s, to_s).

    Open hours (and so silent ones) are counted from ``observed_from_s`` on: the first hour
    the compliance job saw anything at all. Before it the system was not watching, and an
    hour it did not watch is not evidence that a venue was silent. ``None``: nothing seen yet.
    Likewise they are counted only up to ``observed_to_s`` (None: no bound): the hours after
    the newest anyone was heard in have not been read yet (the pipeline is behind, or the
    scanners' data has not come in), and are not evidence either; nor is a headcount whose
    span ends after it (the scans it is compared with may not all be read).
    """
    f = Figures(venues=1)
    heard: dict[int, int] = {}  # hour -> scanners heard in it
    for hour, h in records.hours.items():
        if frm_s <= hour * HOUR_S < to_s:
            f.scans_in += h.scans_in
            f.scans_out += h.scans_out
            f.card += h.card
            f.app += h.app
            f.venue_qr += h.venue_qr
            if h.scanners_heard:
                heard[hour] = h.scanners_heard
    f.venues_scanning = int(f.card + f.app > 0)
    # exit scans are judged on whole days only: during a day, many visitors are still inside
    lo_day, hi_day = local_day(frm_s), local_day(to_s - DAY_S)  # the last day ended by to_s
    for day, d in records.days.items():
        if lo_day <= day <= hi_day:
            f.cards_in += d.cards_in
            f.cards_in_out += d.cards_in_out
    if venue is not None and observed_from_s is not None:
        until_s = to_s if observed_to_s is None else min(to_s, observed_to_s)
        for hour in range(-(-max(frm_s, observed_from_s) // HOUR_S), until_s // HOUR_S):
            if is_open_at(venue, hour * HOUR_S):
                f.open_hours += 1
                scanners = heard.get(hour, 0)
                f.silent_open_hours += scanners == 0
                if scanners:
                    points = venue.scanning_points
                    missing = max(0, points - scanners)
                    f.entrance_hours += points
                    f.silent_entrance_hours += missing
                    f.silent_entrances = max(f.silent_entrances, missing)
    for c in records.coverage.values():
        # a headcount whose span ends after the evidence is read is provisional: its scans may
        # not all be counted yet (the compliance job counts them as they come)
        read = observed_to_s is None or c.to_ms // 1000 <= observed_to_s
        if read and frm_s <= c.from_ms // 1000 < to_s:
            f.headcounts += 1
            f.people_counted += c.people_counted
            f.people_scanned += min(c.people_scanned, c.people_counted)
    for g in records.gaps.values():
        flagged = g.flagged_at_ms // 1000
        resolved = g.resolved_at_ms // 1000 if g.resolved_at_ms is not None else None
        if frm_s <= flagged < to_s:
            f.gaps_flagged += 1
            if resolved is None or resolved >= to_s:
                f.gaps_open += 1
        if resolved is not None and frm_s <= resolved < to_s:
            f.gaps_resolved += 1
    # the venue's own failings (a cluster of cases there is not one)
    f.alerts = sum(1 for a in alerts if frm_s <= a.raised_at_ms // 1000 < to_s
                   and a.kind in COMPLIANCE_KINDS)
    for i in inspections:
        if frm_s <= i.observed_from_ms // 1000 < to_s:
            f.inspections += 1
            f.outcomes[i.outcome] = f.outcomes.get(i.outcome, 0) + 1
    f.venues_inspected = int(f.inspections > 0)
    return f


def combine(figures: Iterable[Figures]) -> Figures:
    total = Figures()
    for f in figures:
        total.add(f)
    return total


def risk(f: Figures) -> tuple[float, list[str]]:
    """How urgently a venue should be inspected, and why (reasons in English keys)."""
    score = 0.0
    reasons = []
    if f.gaps_open or f.gaps_flagged:
        score += 3.0 * f.gaps_open + 1.0 * (f.gaps_flagged - f.gaps_open)
        reasons.append("gaps")
    if f.coverage is not None and f.coverage < 0.8:
        score += 5.0 * (1 - f.coverage)
        reasons.append("low_coverage")
    if f.silent_share:
        score += 4.0 * f.silent_share
        reasons.append("silent")
    if f.silent_entrance_hours:
        score += 3.0 * (f.silent_entrance_share or 0)
        reasons.append("silent_entrance")
    if f.venue_qr:
        score += 2.0 + 3.0 * (f.venue_qr_share or 0)
        reasons.append("venue_qr")
    if f.exit_share is not None and f.exit_share < 0.5 and f.cards_in >= MIN_EXIT_SAMPLE:
        score += 1.0 * (1 - f.exit_share)
        reasons.append("no_exit_scans")
    # no staff scan while open: not scanning, if people came (counted, or self-scanned a
    # poster) or nothing at all was heard; a quiet venue whose scanner beats is just quiet
    visitors = f.people_counted > 0 or f.venue_qr > 0
    if f.open_hours and not f.venues_scanning and (visitors or f.silent_open_hours == f.open_hours):
        score += 4.0
        reasons.append("not_scanning")
    return round(score, 3), reasons

