from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.codec.gap import Gap
from truyvet.domain.compliance.alerts import SILENT_AFTER_S, Compliance
from truyvet.domain.compliance.state import Thresholds
from truyvet.domain.localtime import local_day
from truyvet.codec.checkin import CheckIn
from truyvet.codec.headcount import Headcount
from truyvet.codec.heartbeat import Heartbeat
from truyvet.codec.timefmt import parse_ms
from truyvet.domain.venues import OpenVenue

T0 = parse_ms("2026-11-20T12:00:00Z") // 1000  # 19:00 in Huế
NOW = T0 + 6 * 3600
RET = 21 * 86_400


def scan(i: int, card: str, direction: str, dt: int, method: str = "card", venue: str = "V") -> CheckIn:
    return CheckIn(f"e{i}", card, venue, "V-s1", direction, (T0 + dt) * 1000, method)


def test_hour_and_day_figures_count_each_scan_once() -> None:
    c = Compliance(RET)
    scans = [scan(1, "a", "in", 60), scan(2, "a", "out", 1800), scan(3, "b", "in", 120, "app"),
             scan(3, "b", "in", 120, "app"), scan(4, "c", "in", 300, "venue_qr")]
    touched = set()
    for s in scans:
        touched |= c.add_scan(s, NOW)
    hour = str(T0 // 3600)
    h = c.record("V", "hour", hour)
    assert (h.scans_in, h.scans_out, h.cards) == (3, 1, 3)  # e3 re-sent counts once
    assert (h.card, h.app, h.venue_qr) == (2, 1, 1)
    d = c.record("V", "day", str(local_day(T0)))
    assert (d.cards_in, d.cards_in_out) == (3, 1)
    assert ("hour", hour) in touched
    alerts = c.alerts_for("V", touched, NOW)
    assert [a.kind for a in alerts] == ["venue_qr"]
    assert c.alerts_for("V", touched, NOW) == []  # raised once


def test_coverage_follows_late_scans_and_alerts_when_low() -> None:
    c = Compliance(RET, Thresholds(min_coverage=0.8, min_counted=10))
    hc = Headcount("hc1", "V", T0 * 1000, (T0 + 3600) * 1000, 10, "door_counter")
    touched = c.add_headcount(hc)
    for i in range(7):
        touched |= c.add_scan(scan(i, f"card{i}", "in", 60 * i), NOW)
    rec = c.record("V", "coverage", "hc1")
    assert (rec.people_counted, rec.people_scanned, rec.coverage) == (10, 7, 0.7)
    assert [a.kind for a in c.alerts_for("V", touched, NOW)] == ["low_coverage"]
    # a scan outside the span does not count, one inside (late) does and touches the coverage
    assert ("coverage", "hc1") not in c.add_scan(scan(50, "x", "in", 7200), NOW)
    assert ("coverage", "hc1") in c.add_scan(scan(51, "y", "in", 1000), NOW)
    assert c.record("V", "coverage", "hc1").people_scanned == 8


def test_a_headcount_is_judged_once_the_scans_of_its_span_are_read() -> None:
    """A door counter's report read ahead of the check-ins (a backlog: the small headcounts
    topic is read faster) is held back until the inputs are read past its span."""
    c = Compliance(RET)
    hc = Headcount("hc1", "V", T0 * 1000, (T0 + 3600) * 1000, 10, "door_counter")
    assert c.alerts_for("V", c.add_headcount(hc), NOW, read_to_s=T0 + 600) == []
    touched = set()
    for i in range(9):  # the hour's scans, read later: 9 of 10 scanned
        touched |= c.add_scan(scan(i, f"card{i}", "in", 300 * i), NOW)
    assert c.alerts_for("V", touched, NOW, read_to_s=T0 + 3000) == []
    assert c.ripe_coverage(T0 + 3599, NOW) == []  # not read past the span yet
    assert c.ripe_coverage(T0 + 3600, NOW) == []  # 90 %: fine, and judged once
    assert not c.unripe
    low = Headcount("hc2", "V", T0 * 1000, (T0 + 3600) * 1000, 20, "door_counter")
    assert c.alerts_for("V", c.add_headcount(low), NOW, read_to_s=T0) == []
    assert [a.kind for a in c.ripe_coverage(T0 + 7200, NOW)] == ["low_coverage"]  # 9 of 20


def test_silence_and_gaps() -> None:
    c = Compliance(RET, Thresholds(gaps_alert=2))
    c.add_heartbeat(Heartbeat("V-s1", "V", T0 * 1000), NOW)
    open_all_day = {"V": OpenVenue(1, T0 - 10 * 3600)}
    assert [a.kind for a in c.silent_venues(open_all_day, T0 + 3600)] == ["silent"]
    assert c.silent_venues(open_all_day, T0 + 3600) == []  # once per hour
    assert c.silent_venues(open_all_day, T0 + 600) == []  # heard 10 minutes ago
    assert c.silent_venues({}, T0 + 7200) == []  # closed
    assert c.silent_venues({"V": OpenVenue(0, T0)}, T0 + 7200) == []  # no scanning point
    gap = Gap("g1", "open", "V", "k", "F0", "card", T0 * 1000, T0 * 1000, (NOW - 60) * 1000)
    assert c.alerts_for("V", c.add_gap(gap), NOW) == []
    alerts = c.alerts_for("V", c.add_gap(dataclasses.replace(gap, gap_id="g2")), NOW)
    assert [a.kind for a in alerts] == ["gaps"]
    resolved = dataclasses.replace(gap, status="resolved", resolved_at_ms=NOW * 1000)
    c.add_gap(resolved)
    assert c.add_gap(gap) == set()  # the older open event, late, does not reopen it
    assert c.record("V", "gap", "g1").status == "resolved"


def test_a_venue_that_just_opened_is_not_silent_yet() -> None:
    """Heard at closing time yesterday, open again since T0: silent only once it has been
    open SILENT_AFTER_S without a sound (it used to be flagged the minute it opened)."""
    c = Compliance(RET)
    c.add_heartbeat(Heartbeat("V-s1", "V", (T0 - 10 * 3600) * 1000), NOW)
    reopened = {"V": OpenVenue(2, T0)}
    assert c.silent_venues(reopened, T0) == []
    assert c.silent_venues(reopened, T0 + SILENT_AFTER_S - 1) == []
    [alert] = c.silent_venues(reopened, T0 + SILENT_AFTER_S)
    assert alert.facts == {"minutes": SILENT_AFTER_S // 60}
    c.add_heartbeat(Heartbeat("V-s1", "W", (T0 - 2 * 86_400) * 1000), NOW)
    assert c.silent_venues({"W": OpenVenue(1, T0 - 3600)}, T0) == []  # not heard for days: gone


def test_old_data_is_gone() -> None:
    c = Compliance(3600)
    assert c.add_scan(scan(1, "a", "in", 0), T0 + 7200) == set()
    c.add_scan(scan(2, "a", "in", 0), T0 + 60)
    c.purge(T0 + 2 * 86_400)
    assert not c.venues["V"].hours and not c.venues["V"].ins


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["in", "out"]),
                          st.integers(0, 3 * 86_400), st.sampled_from(["V", "W"])), max_size=40),
       st.data())
def test_a_days_cards_in_and_out_are_those_of_its_scans(
        drawn: list[tuple[str, str, int, str]], data: st.DataObject) -> None:
    """Each (venue, local day)'s figures equal the sets of its scans, taken plainly: the
    distinct cards scanned in, and those of them also scanned out that day, whatever the
    order of the scans and however many of them are sent again."""
    scans = [scan(i, card, direction, dt, venue=venue)
             for i, (card, direction, dt, venue) in enumerate(drawn)]
    resent = data.draw(st.lists(st.sampled_from(scans), max_size=10)) if scans else []
    arriving = data.draw(st.permutations(scans + resent))
    c = Compliance(RET)
    for s in arriving:
        c.add_scan(s, T0 + 4 * 86_400)
    cards: dict[tuple[str, int], dict[str, set[str]]] = {}
    for s in scans:
        day = cards.setdefault((s.venue_id, local_day(s.scanned_at_ms // 1000)),
                               {"in": set(), "out": set()})
        day[s.direction].add(s.card_id)
    for (venue, day), by_direction in cards.items():
        d = c.record(venue, "day", str(day))
        assert (d.cards_in, d.cards_in_out) == (
            len(by_direction["in"]), len(by_direction["in"] & by_direction["out"]))
