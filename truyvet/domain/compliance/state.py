"""Compliance state of the venues of one partition (pure).

Inputs, all keyed by venue: check-ins, scanner heartbeats, headcount reports, gap events.
State per venue, kept for the retention:

- per UTC hour: scans in and out (each ``event_id`` counted once), scans by method
  (``card``, ``app``, the banned ``venue_qr``), distinct cards, scanners heard (by scan or
  heartbeat), heartbeats;
- per local day (UTC+07:00): cards scanned in, and of those the cards also scanned out
  (the share of entries with an exit scan);
- per headcount report: people counted, and people scanned in during its span (distinct cards
  with an ``in`` scan then): coverage = scanned / counted;
- per gap: its latest status.

Outputs are :class:`Record` replacements keyed by (venue, kind, id) -- the current content of
every hour, day, coverage and gap they touch -- and alerts, each raised once per alert id.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from truyvet.codec.checkin import CheckIn
from truyvet.codec.signals import Headcount, Heartbeat
from truyvet.codec.timefmt import format_ms
from truyvet.codec.venue import OpenVenue

HOUR_S = 3600
DAY_S = 86_400
VN_OFFSET_S = 7 * 3600
SILENT_AFTER_S = 30 * 60


def local_day(t_s: int) -> int:
    return (t_s + VN_OFFSET_S) // DAY_S


def day_text(day: int) -> str:
    return format_ms(day * DAY_S * 1000)[:10]  # the local date, written as a date


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
    heartbeats: int = 0

    def to_mapping(self, venue: str, hour: int) -> dict[str, Any]:
        return {"kind": "hour", "venue_id": venue, "hour": format_ms(hour * HOUR_S * 1000),
                "scans_in": self.scans_in, "scans_out": self.scans_out,
                "by_method": {m: self.by_method.get(m, 0) for m in ("card", "app", "venue_qr")},
                "cards": len(self.cards), "scanners_heard": len(self.scanners),
                "heartbeats": self.heartbeats}


@dataclass
class DayStats:
    cards_in: set[str] = field(default_factory=set)
    cards_out: set[str] = field(default_factory=set)

    def to_mapping(self, venue: str, day: int) -> dict[str, Any]:
        return {"kind": "day", "venue_id": venue, "day": day_text(day),
                "cards_in": len(self.cards_in),
                "cards_in_out": len(self.cards_in & self.cards_out)}


@dataclass(frozen=True)
class Record:
    venue: str
    kind: str  # hour | day | coverage | gap
    id: str
    value: dict[str, Any]


@dataclass(frozen=True)
class Alert:
    alert_id: str
    venue: str
    kind: str  # low_coverage | silent | venue_qr | gaps
    at_ms: int
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)  # the detail's numbers, for translations

    def to_mapping(self) -> dict[str, Any]:
        return {"v": 1, "alert_id": self.alert_id, "venue_id": self.venue, "kind": self.kind,
                "raised_at": format_ms(self.at_ms), "detail": self.detail, "facts": self.facts}


@dataclass
class VenueState:
    hours: dict[int, HourStats] = field(default_factory=dict)
    days: dict[int, DayStats] = field(default_factory=dict)
    ins: list[tuple[int, str]] = field(default_factory=list)  # (t, card) of in scans, sorted
    headcounts: dict[str, Headcount] = field(default_factory=dict)
    gaps: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_heard_s: int = 0


class Compliance:
    def __init__(self, retention_s: int, thresholds: Thresholds | None = None) -> None:
        self.retention_s = retention_s
        self.t = thresholds or Thresholds()
        self.venues: dict[str, VenueState] = {}
        self.raised: set[str] = set()
        self.unripe: set[tuple[str, str]] = set()  # (venue, headcount) not judged yet

    def _venue(self, venue: str) -> VenueState:
        v = self.venues.get(venue)
        if v is None:
            v = self.venues[venue] = VenueState()
        return v

    # --- inputs: each returns the (kind, id) keys it may have changed ------------------------
    def add_scan(self, c: CheckIn, now_s: int) -> set[tuple[str, str]]:
        t = c.scanned_at_ms // 1000
        if t < now_s - self.retention_s:
            return set()
        v = self._venue(c.venue_id)
        hour = t // HOUR_S
        h = v.hours.setdefault(hour, HourStats())
        if c.event_id in h.events:
            return set()  # a re-sent scan counts once
        h.events.add(c.event_id)
        h.by_method[c.method] += 1
        h.cards.add(c.card_id)
        h.scanners.add(c.scanner_id)
        day = local_day(t)
        d = v.days.setdefault(day, DayStats())
        touched = {("hour", str(hour)), ("day", str(day))}
        if c.direction == "in":
            h.scans_in += 1
            d.cards_in.add(c.card_id)
            insort(v.ins, (t, c.card_id))
            touched |= {("coverage", hc.headcount_id) for hc in v.headcounts.values()
                        if hc.from_ms // 1000 <= t < hc.to_ms // 1000}
        else:
            h.scans_out += 1
            d.cards_out.add(c.card_id)
        v.last_heard_s = max(v.last_heard_s, t)
        return touched

    def add_heartbeat(self, hb: Heartbeat, now_s: int) -> set[tuple[str, str]]:
        t = hb.sent_at_ms // 1000
        if t < now_s - self.retention_s:
            return set()
        v = self._venue(hb.venue_id)
        hour = t // HOUR_S
        h = v.hours.setdefault(hour, HourStats())
        h.heartbeats += 1
        h.scanners.add(hb.scanner_id)
        v.last_heard_s = max(v.last_heard_s, t)
        return {("hour", str(hour))}

    def add_headcount(self, hc: Headcount) -> set[tuple[str, str]]:
        self._venue(hc.venue_id).headcounts[hc.headcount_id] = hc  # a report sent again replaces
        return {("coverage", hc.headcount_id)}

    def add_gap(self, gap: dict[str, Any]) -> set[tuple[str, str]]:
        v = self._venue(gap["venue_id"])
        known = v.gaps.get(gap["gap_id"])
        if known is not None and known["status"] == "resolved" and gap["status"] == "open":
            if gap["flagged_at"] <= known.get("resolved_at", ""):
                return set()  # an older event arriving late does not reopen it
        v.gaps[gap["gap_id"]] = gap
        return {("gap", gap["gap_id"])}

    # --- outputs --------------------------------------------------------------------------------
    def people_scanned(self, venue: str, hc: Headcount) -> int:
        ins = self._venue(venue).ins
        lo = bisect_left(ins, (hc.from_ms // 1000,))
        hi = bisect_left(ins, (hc.to_ms // 1000,))
        return len({card for _, card in ins[lo:hi]})

    def record(self, venue: str, kind: str, key: str) -> Record | None:
        v = self._venue(venue)
        if kind == "hour":
            h = v.hours.get(int(key))
            return Record(venue, kind, key, h.to_mapping(venue, int(key))) if h else None
        if kind == "day":
            d = v.days.get(int(key))
            return Record(venue, kind, key, d.to_mapping(venue, int(key))) if d else None
        if kind == "coverage":
            hc = v.headcounts[key]
            scanned = self.people_scanned(venue, hc)
            return Record(venue, kind, key, {
                "kind": "coverage", "venue_id": venue, "headcount_id": key,
                "from": format_ms(hc.from_ms), "to": format_ms(hc.to_ms), "source": hc.source,
                "people_counted": hc.people_counted, "people_scanned": scanned,
                "coverage": round(scanned / hc.people_counted, 4) if hc.people_counted else None,
            })
        gap = v.gaps[key]
        return Record(venue, kind, key, {"kind": "gap", **{k: gap[k] for k in (
            "venue_id", "gap_id", "status", "case_id", "from", "to", "flagged_at")},
            "resolved_at": gap.get("resolved_at")})

    def alerts_for(self, venue: str, touched: set[tuple[str, str]], now_s: int,
                   read_to_s: int | None = None) -> list[Alert]:
        """Alerts the change to ``venue`` raises (each alert id once). ``read_to_s``: the
        time the inputs are read up to (None: everything); a headcount whose span ends after
        it is judged later (:meth:`ripe_coverage`), when the scans of its span have been read:
        judged on arrival, a door counter's report read ahead of the check-ins called a
        compliant venue's hour 0 % scanned."""
        v = self._venue(venue)
        out = []
        for kind, key in touched:
            if kind == "hour":
                h = v.hours[int(key)]
                if h.by_method.get("venue_qr"):
                    day = local_day(int(key) * HOUR_S)
                    hour_from = format_ms(int(key) * HOUR_S * 1000)
                    out.append(Alert(f"{venue}/venue_qr/{day_text(day)}", venue, "venue_qr",
                                     now_s * 1000, f"{h.by_method['venue_qr']} self-scans of the "
                                     f"banned venue QR poster in the hour from {hour_from}",
                                     {"scans": h.by_method["venue_qr"], "from": hour_from}))
            elif kind == "coverage":
                if read_to_s is not None and v.headcounts[key].to_ms // 1000 > read_to_s:
                    self.unripe.add((venue, key))
                    continue
                alert = self._coverage_alert(venue, key, now_s)
                if alert is not None:
                    out.append(alert)
            elif kind == "gap":
                since = format_ms((now_s - self.t.gaps_window_days * DAY_S) * 1000)
                open_gaps = [g for g in v.gaps.values()
                             if g["status"] == "open" and g["flagged_at"] >= since]
                if len(open_gaps) >= self.t.gaps_alert:
                    out.append(Alert(f"{venue}/gaps/{day_text(local_day(now_s))}", venue, "gaps",
                                     now_s * 1000, f"{len(open_gaps)} open gaps (declared visits "
                                     f"without a scan) in {self.t.gaps_window_days} days",
                                     {"gaps": len(open_gaps), "days": self.t.gaps_window_days}))
        return self._new(out)

    def ripe_coverage(self, read_to_s: int, now_s: int) -> list[Alert]:
        """Alerts for the headcounts held back by :meth:`alerts_for` whose span the inputs are
        now read past."""
        out = []
        for venue, key in list(self.unripe):
            hc = self._venue(venue).headcounts.get(key)
            if hc is None:  # purged
                self.unripe.discard((venue, key))
            elif hc.to_ms // 1000 <= read_to_s:
                self.unripe.discard((venue, key))
                alert = self._coverage_alert(venue, key, now_s)
                if alert is not None:
                    out.append(alert)
        return self._new(out)

    def _coverage_alert(self, venue: str, key: str, now_s: int) -> Alert | None:
        hc = self._venue(venue).headcounts[key]
        scanned = self.people_scanned(venue, hc)
        if hc.people_counted < self.t.min_counted or \
                scanned >= self.t.min_coverage * hc.people_counted:
            return None
        return Alert(f"{venue}/low_coverage/{key}", venue, "low_coverage", now_s * 1000,
                     f"{scanned} of {hc.people_counted} people scanned "
                     f"({scanned / hc.people_counted:.0%}) from {format_ms(hc.from_ms)} to "
                     f"{format_ms(hc.to_ms)}",
                     {"scanned": scanned, "counted": hc.people_counted,
                      "from": format_ms(hc.from_ms), "to": format_ms(hc.to_ms)})

    def silent_venues(self, open_at: dict[str, OpenVenue], at_s: int) -> list[Alert]:
        """Alerts for the venues open at ``at_s`` that were heard within a day, but neither
        for the last SILENT_AFTER_S nor since they opened that long ago (a venue that has just
        opened is not silent yet). ``at_s`` must be a time the inputs are read up to: what
        was not read yet is not silence."""
        out = []
        for venue, (points, since_s) in open_at.items():
            v = self.venues.get(venue)
            if v is None or points == 0 or not v.last_heard_s or at_s - v.last_heard_s > DAY_S:
                continue
            quiet = at_s - max(v.last_heard_s, since_s)  # while open
            if quiet >= SILENT_AFTER_S:
                hour = format_ms((at_s - at_s % HOUR_S) * 1000)
                out.append(Alert(f"{venue}/silent/{hour}", venue, "silent", at_s * 1000,
                                 f"open, but no scan and no scanner heartbeat for "
                                 f"{quiet // 60} minutes", {"minutes": quiet // 60}))
        return self._new(out)

    def _new(self, alerts: list[Alert]) -> list[Alert]:
        fresh = [a for a in alerts if a.alert_id not in self.raised]
        self.raised.update(a.alert_id for a in fresh)
        return fresh

    def purge(self, now_s: int) -> None:
        cutoff = now_s - self.retention_s
        for v in self.venues.values():
            for hour in [h for h in v.hours if h * HOUR_S < cutoff]:
                del v.hours[hour]
            for day in [d for d in v.days if (d + 1) * DAY_S - VN_OFFSET_S < cutoff]:
                del v.days[day]
            del v.ins[: bisect_left(v.ins, (cutoff,))]
            for hc_id in [k for k, hc in v.headcounts.items() if hc.to_ms // 1000 < cutoff]:
                del v.headcounts[hc_id]
