"""The alerts a venue's compliance state raises (pure), each alert id once:

- ``venue_qr``: self-scans of the banned venue QR poster in an hour (one alert a venue-day);
- ``low_coverage``: fewer than ``min_coverage`` of the people a headcount counted were scanned
  in during its span -- judged once the inputs are read past the span;
- ``gaps``: ``gaps_alert`` open gaps (declared visits without a scan) within a window;
- ``silent``: open, and neither a scan nor a heartbeat for ``SILENT_AFTER_S`` (nor since it
  opened that long ago) -- judged at a time the inputs are read up to, never the wall clock;
- ``silent_entrance``: open and heard, but fewer of its scanners heard for ``SILENT_AFTER_S``
  than it has registered scanning points, and this scanner, heard within a day, silent that
  long: the entrance it scans at is not being scanned ("vị trí triển khai quét mã QR").
"""

from __future__ import annotations

from truyvet.codec.alert import Alert
from truyvet.codec.timefmt import format_ms
from truyvet.domain.compliance.state import DAY_S, HOUR_S, ComplianceState, Keys
from truyvet.domain.localtime import date_text
from truyvet.domain.venues import OpenVenue

SILENT_AFTER_S = 30 * 60


class Compliance(ComplianceState):
    """The compliance state of one partition's venues, and the alerts its changes raise."""

    def alerts_for(self, venue: str, touched: Keys, now_s: int,
                   read_to_s: int | None = None) -> list[Alert]:
        """Alerts the change to ``venue`` raises (each alert id once). ``read_to_s``: the
        time the inputs are read up to (None: everything); a headcount whose span ends after
        it is judged later (:meth:`ripe_coverage`), when the scans of its span have been read:
        judged on arrival, a door counter's report read ahead of the check-ins called a
        compliant venue's hour 0 % scanned."""
        v = self.venue(venue)
        out = []
        for kind, key in touched:
            if kind == "hour":
                h = v.hours[int(key)]
                if h.by_method.get("venue_qr"):
                    hour_from = format_ms(int(key) * HOUR_S * 1000)
                    out.append(Alert(f"{venue}/venue_qr/{date_text(int(key) * HOUR_S)}", venue,
                                     "venue_qr", now_s * 1000,
                                     f"{h.by_method['venue_qr']} self-scans of the banned venue "
                                     f"QR poster in the hour from {hour_from}",
                                     {"scans": h.by_method["venue_qr"], "from": hour_from}))
            elif kind == "coverage":
                if read_to_s is not None and v.headcounts[key].to_ms // 1000 > read_to_s:
                    self.unripe.add((venue, key))
                    continue
                alert = self._coverage_alert(venue, key, now_s)
                if alert is not None:
                    out.append(alert)
            elif kind == "gap":
                since_ms = (now_s - self.t.gaps_window_days * DAY_S) * 1000
                open_gaps = [g for g in v.gaps.values()
                             if g.status == "open" and g.flagged_at_ms >= since_ms]
                if len(open_gaps) >= self.t.gaps_alert:
                    out.append(Alert(f"{venue}/gaps/{date_text(now_s)}", venue, "gaps",
                                     now_s * 1000, f"{len(open_gaps)} open gaps (declared visits "
                                     f"without a scan) in {self.t.gaps_window_days} days",
                                     {"gaps": len(open_gaps), "days": self.t.gaps_window_days}))
        return self._new(out)

    def ripe_coverage(self, read_to_s: int, now_s: int) -> list[Alert]:
        """Alerts for the headcounts held back by :meth:`alerts_for` whose span the inputs are
        now read past."""
        out = []
        for venue, key in list(self.unripe):
            hc = self.venue(venue).headcounts.get(key)
            if hc is None:  # purged
                self.unripe.discard((venue, key))
            elif hc.to_ms // 1000 <= read_to_s:
                self.unripe.discard((venue, key))
                alert = self._coverage_alert(venue, key, now_s)
                if alert is not None:
                    out.append(alert)
        return self._new(out)

    def _coverage_alert(self, venue: str, key: str, now_s: int) -> Alert | None:
        hc = self.venue(venue).headcounts[key]
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
        opened is not silent yet); and for the silent entrances of the others
        (:meth:`silent_entrances`). ``at_s`` must be a time the inputs are read up to: what
        was not read yet is not silence."""
        out = []
        hour = format_ms((at_s - at_s % HOUR_S) * 1000)
        for venue, (points, since_s) in open_at.items():
            v = self.venues.get(venue)
            if v is None or points == 0 or not v.last_heard_s or at_s - v.last_heard_s > DAY_S:
                continue
            quiet = at_s - max(v.last_heard_s, since_s)  # while open
            if quiet >= SILENT_AFTER_S:
                out.append(Alert(f"{venue}/silent/{hour}", venue, "silent", at_s * 1000,
                                 f"open, but no scan and no scanner heartbeat for "
                                 f"{quiet // 60} minutes", {"minutes": quiet // 60}))
            elif points > 1:
                out += self.silent_entrances(venue, OpenVenue(points, since_s), at_s, hour)
        return self._new(out)

    def silent_entrances(self, venue: str, open_venue: OpenVenue, at_s: int,
                         hour: str) -> list[Alert]:
        """A venue that is heard, open with ``points`` registered scanning points: when fewer
        of its scanners were heard within SILENT_AFTER_S than it has points, each scanner heard
        within a day but silent that long (while open) is an entrance not being scanned. (As
        many scanners heard as points: a scanner replaced at its entrance, not a silent one.)"""
        points, since_s = open_venue
        heard = self.venues[venue].scanner_heard_s
        recent = sum(1 for t in heard.values() if at_s - t < SILENT_AFTER_S)
        if recent >= points:
            return []
        out = []
        for scanner, last_s in sorted(heard.items()):
            quiet = at_s - max(last_s, since_s)
            if at_s - last_s <= DAY_S and quiet >= SILENT_AFTER_S:
                out.append(Alert(
                    f"{venue}/silent_entrance/{scanner}/{hour}", venue, "silent_entrance",
                    at_s * 1000, f"entrance scanner {scanner} silent for {quiet // 60} minutes "
                    f"while open; {recent} of {points} registered scanning points heard",
                    {"scanner": scanner, "minutes": quiet // 60, "heard": recent,
                     "registered": points}))
        return out

    def already_raised(self, now_s: int) -> dict[str, int]:
        """After a rebuild from history: the alerts it implies were raised before (id -> when,
        taken as now: they are forgotten a retention from the rebuild at the latest)."""
        ids: dict[str, int] = {}
        for venue, v in self.venues.items():
            keys = {("hour", str(h)) for h in v.hours} | {("coverage", k) for k in v.headcounts}
            keys |= {("gap", k) for k in v.gaps}
            raised, self.raised = self.raised, {}
            ids.update((a.alert_id, a.raised_at_ms) for a in self.alerts_for(venue, keys, now_s))
            self.raised = raised
        return ids

    def _new(self, alerts: list[Alert]) -> list[Alert]:
        fresh = [a for a in alerts if a.alert_id not in self.raised]
        self.raised.update((a.alert_id, a.raised_at_ms) for a in fresh)
        return fresh
