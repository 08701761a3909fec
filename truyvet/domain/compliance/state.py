"""Compliance state of the venues of one partition (pure): the compliance job's memory.

Inputs, all keyed by venue: check-ins, scanner heartbeats, headcount reports, gap events.
State per venue, kept for the retention:

- per UTC hour: scans in and out (each ``event_id`` counted once), scans by method
  (``card``, ``app``, the banned ``venue_qr``), distinct cards, scanners heard (by scan or
  heartbeat), heartbeats (each scanner's heartbeat of one moment counted once);
- per local day (UTC+07:00): cards scanned in, and of those the cards also scanned out
  (the share of entries with an exit scan);
- per headcount report: people counted, and people scanned in during its span (distinct cards
  with an ``in`` scan then): coverage = scanned / counted;
- per gap: its latest status;
- per scanner: when it was last heard (by scan or heartbeat): entrances are judged by it.

Each input returns the (kind, id) keys it may have changed; :meth:`Compliance.record` gives
the current content of one as a ``compliance.v1`` record (a replacement);
``truyvet.domain.compliance.alerts.Compliance`` adds the alerts the changes raise.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from dataclasses import dataclass, field

from truyvet.codec.checkin import CheckIn
from truyvet.codec.compliance import ComplianceRecord, Coverage, DayFigures, GapStatus, HourFigures
from truyvet.codec.gap import Gap
from truyvet.codec.headcount import Headcount
from truyvet.codec.heartbeat import Heartbeat
from truyvet.domain import localtime
from truyvet.domain.localtime import local_day

HOUR_S = 3600
DAY_S = localtime.DAY_S
Keys = set[tuple[str, str]]  # (kind, id) of records that may have changed


@dataclass(frozen=True)
class Thresholds:
    min_coverage: float = 0.8  # below: alert (when at least min_counted people were counted)
    min_counted: int = 10
    gaps_alert: int = 2  # open gaps within gaps_window_days: alert
    gaps_window_days: int = 7


@dataclass
class HourStats:
    events: set[str] = field(default_factory=set)
    scans_in: int = 0
    scans_out: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    cards: set[str] = field(default_factory=set)
    scanners: set[str] = field(default_factory=set)
    beats: set[tuple[str, int]] = field(default_factory=set)  # (scanner, sent at): once each

    def figures(self, venue: str, hour: int) -> HourFigures:
        m = self.by_method
        return HourFigures(venue, hour, self.scans_in, self.scans_out, m.get("card", 0),
                           m.get("app", 0), m.get("venue_qr", 0), len(self.cards),
                           len(self.scanners), len(self.beats))


@dataclass
class DayStats:
    cards_in: set[str] = field(default_factory=set)
    cards_out: set[str] = field(default_factory=set)
    # cards in both, counted as they come: a busy venue's day holds thousands of cards, and
    # its record is made again for every batch that touches it
    cards_in_out: int = 0

    def scanned_in(self, card: str) -> None:
        if card not in self.cards_in:
            self.cards_in.add(card)
            self.cards_in_out += card in self.cards_out

    def scanned_out(self, card: str) -> None:
        if card not in self.cards_out:
            self.cards_out.add(card)
            self.cards_in_out += card in self.cards_in

    def figures(self, venue: str, day: int) -> DayFigures:
        return DayFigures(venue, day, len(self.cards_in), self.cards_in_out)


@dataclass
class VenueState:
    hours: dict[int, HourStats] = field(default_factory=dict)
    days: dict[int, DayStats] = field(default_factory=dict)
    ins: list[tuple[int, str]] = field(default_factory=list)  # (t, card) of in scans, sorted
    headcounts: dict[str, Headcount] = field(default_factory=dict)
    gaps: dict[str, Gap] = field(default_factory=dict)
    last_heard_s: int = 0
    scanner_heard_s: dict[str, int] = field(default_factory=dict)  # scanner -> last heard

    def heard(self, scanner: str, t: int) -> None:
        self.last_heard_s = max(self.last_heard_s, t)
        if t > self.scanner_heard_s.get(scanner, 0):
            self.scanner_heard_s[scanner] = t


def _covering(v: VenueState, t: int) -> Keys:
    """The coverage records of the venue's headcounts whose span holds ``t``."""
    return {("coverage", hc.headcount_id) for hc in v.headcounts.values()
            if hc.from_ms // 1000 <= t < hc.to_ms // 1000}


class ComplianceState:
    def __init__(self, retention_s: int, thresholds: Thresholds | None = None) -> None:
        self.retention_s = retention_s
        self.t = thresholds or Thresholds()
        self.venues: dict[str, VenueState] = {}
        self.raised: dict[str, int] = {}  # alert id -> when raised (ms): each raised once
        self.unripe: set[tuple[str, str]] = set()  # (venue, headcount) not judged yet
        self._keys: dict[tuple[str, int], tuple[str, str]] = {}  # see _key (purged with hours)

    def venue(self, venue: str) -> VenueState:
        v = self.venues.get(venue)
        if v is None:
            v = self.venues[venue] = VenueState()
        return v

    # --- inputs: each returns the (kind, id) keys it may have changed ------------------------
    def add_scan(self, c: CheckIn, now_s: int) -> Keys:
        event_id, card_id, venue_id, scanner_id, direction, scanned_at_ms, method = c
        t = scanned_at_ms // 1000
        if t < now_s - self.retention_s:
            return set()
        v = self.venues.get(venue_id) or self.venue(venue_id)
        hour = t // HOUR_S
        h = v.hours.get(hour)
        if h is None:  # (not setdefault: that makes a HourStats, six sets, for every scan)
            h = v.hours[hour] = HourStats()
        day = local_day(t)
        touched = {self._key("hour", hour), self._key("day", day)}
        if event_id in h.events:  # a re-sent scan counts once; its records are the same
            if direction == "in" and v.headcounts:
                touched |= _covering(v, t)
            return touched
        h.events.add(event_id)
        h.by_method[method] += 1
        h.cards.add(card_id)
        h.scanners.add(scanner_id)
        d = v.days.get(day)
        if d is None:
            d = v.days[day] = DayStats()
        if direction == "in":
            h.scans_in += 1
            d.scanned_in(card_id)
            insort(v.ins, (t, card_id))
            if v.headcounts:
                touched |= _covering(v, t)
        else:
            h.scans_out += 1
            d.scanned_out(card_id)
        v.heard(scanner_id, t)
        return touched

    def _key(self, kind: str, number: int) -> tuple[str, str]:
        """The (kind, id) key of an hour or a day, made once per number."""
        key = self._keys.get((kind, number))
        if key is None:
            key = self._keys[(kind, number)] = (kind, str(number))
        return key

    def add_heartbeat(self, hb: Heartbeat, now_s: int) -> Keys:
        t = hb.sent_at_ms // 1000
        if t < now_s - self.retention_s:
            return set()
        v = self.venue(hb.venue_id)
        hour = t // HOUR_S
        h = v.hours.get(hour)
        if h is None:
            h = v.hours[hour] = HourStats()
        h.beats.add((hb.scanner_id, hb.sent_at_ms))  # a heartbeat read again counts once
        h.scanners.add(hb.scanner_id)
        v.heard(hb.scanner_id, t)
        return {("hour", str(hour))}

    def add_headcount(self, hc: Headcount) -> Keys:
        self.venue(hc.venue_id).headcounts[hc.headcount_id] = hc  # a report sent again replaces
        return {("coverage", hc.headcount_id)}

    def add_gap(self, gap: Gap) -> Keys:
        v = self.venue(gap.venue_id)
        known = v.gaps.get(gap.gap_id)
        if known is not None and known.status == "resolved" and gap.status == "open":
            if gap.flagged_at_ms <= (known.resolved_at_ms or 0):
                return set()  # an older event arriving late does not reopen it
        v.gaps[gap.gap_id] = gap
        return {("gap", gap.gap_id)}

    # --- outputs --------------------------------------------------------------------------------
    def people_scanned(self, venue: str, hc: Headcount) -> int:
        ins = self.venue(venue).ins
        lo = bisect_left(ins, (hc.from_ms // 1000,))
        hi = bisect_left(ins, (hc.to_ms // 1000,))
        return len({card for _, card in ins[lo:hi]})

    def record(self, venue: str, kind: str, key: str) -> ComplianceRecord | None:
        """The current content of one (venue, kind, id) record; None when it has none."""
        v = self.venue(venue)
        if kind == "hour":
            h = v.hours.get(int(key))
            return h.figures(venue, int(key)) if h else None
        if kind == "day":
            d = v.days.get(int(key))
            return d.figures(venue, int(key)) if d else None
        if kind == "coverage":
            hc = v.headcounts[key]
            return Coverage(venue, key, hc.from_ms, hc.to_ms, hc.source, hc.people_counted,
                            self.people_scanned(venue, hc))
        g = v.gaps[key]
        return GapStatus(venue, g.gap_id, g.status, g.case_id, g.from_ms, g.to_ms,
                         g.flagged_at_ms, g.resolved_at_ms)

    def purge(self, now_s: int) -> None:
        """Forget what is past the retention."""
        cutoff = now_s - self.retention_s
        for v in self.venues.values():
            for hour in [h for h in v.hours if h * HOUR_S < cutoff]:
                del v.hours[hour]
            for day in [d for d in v.days if localtime.day_start_s(d + 1) < cutoff]:
                del v.days[day]
            del v.ins[: bisect_left(v.ins, (cutoff,))]
            for scanner in [k for k, t in v.scanner_heard_s.items() if t < cutoff]:
                del v.scanner_heard_s[scanner]
            for hc_id in [k for k, hc in v.headcounts.items() if hc.to_ms // 1000 < cutoff]:
                del v.headcounts[hc_id]
            # gaps hold the case and its stop (personal data): gone a retention after flagged
            for gap_id in [k for k, g in v.gaps.items() if g.flagged_at_ms // 1000 < cutoff]:
                del v.gaps[gap_id]
        self._keys.clear()  # (made again as scans come: hours and days past go with it)
        for alert_id in [k for k, at_ms in self.raised.items() if at_ms // 1000 < cutoff]:
            del self.raised[alert_id]
        self.unripe = {(venue, key) for venue, key in self.unripe
                       if key in getattr(self.venues.get(venue), "headcounts", ())}
