"""Silence per entrance ("vị trí triển khai quét mã QR", directive 11731/UBND-CN): a venue with
three registered scanning points whose door-2 scanner is silent while the others scan is
flagged for that entrance; the report's figures count the entrances not heard.

The alerts are compared with a reference that judges from the raw list of what was heard (no
incremental state), over random days of four scanners switched off and on."""

from __future__ import annotations

import random

from truyvet.codec import venue as venue_codec
from truyvet.codec.compliance import HourFigures
from truyvet.codec.heartbeat import Heartbeat
from truyvet.codec.timefmt import parse_ms
from truyvet.domain.compliance.alerts import SILENT_AFTER_S, Compliance
from truyvet.domain.compliance.figures import VenueRecords, risk, venue_figures
from truyvet.domain.venues import OpenVenue

T0 = parse_ms("2021-12-06T08:00:00+07:00") // 1000  # a Monday
RET = 21 * 86_400
DAY = 86_400


def _beat(c: Compliance, scanner: str, t: int, venue: str = "V") -> None:
    c.add_heartbeat(Heartbeat(scanner, venue, t * 1000), t)


def _entrances(c: Compliance, open_at: dict[str, OpenVenue], at_s: int) -> list[tuple[str, object]]:
    return [(a.kind, a.facts.get("scanner")) for a in c.silent_venues(open_at, at_s)]


def test_door_2_silent_while_the_others_scan_is_flagged_for_door_2() -> None:
    c = Compliance(RET)
    open_3 = {"V": OpenVenue(3, T0 - 3600)}
    for t in range(T0 - 3600, T0 + 3 * 3600, 300):  # every 5 minutes
        _beat(c, "V-s1", t)
        _beat(c, "V-s3", t)
        if t < T0:
            _beat(c, "V-s2", t)  # door 2's scanner is switched off at T0
    last_s2 = T0 - 300
    assert _entrances(c, open_3, last_s2 + SILENT_AFTER_S - 1) == []
    [alert] = c.silent_venues(open_3, last_s2 + SILENT_AFTER_S)
    assert (alert.kind, alert.venue_id) == ("silent_entrance", "V")
    assert alert.facts == {"scanner": "V-s2", "minutes": 30, "heard": 2, "registered": 3}
    assert c.silent_venues(open_3, last_s2 + SILENT_AFTER_S + 60) == []  # once an hour
    later = T0 + 2 * 3600 + 60  # the next hour: raised again, with how long by then
    assert [a.facts["minutes"] for a in c.silent_venues(open_3, later)] == [(later - last_s2) // 60]
    # the venue as a whole is not silent: no "silent" alert at any time
    assert all(a.kind != "silent" for t in range(T0, T0 + 3 * 3600, 600)
               for a in c.silent_venues(open_3, t))


def test_a_scanner_replaced_at_its_entrance_is_not_a_silent_entrance() -> None:
    """As many scanners heard as entrances registered: door 2's old scanner was swapped."""
    c = Compliance(RET)
    for t in range(T0 - 3600, T0 + 3600, 300):
        _beat(c, "V-s1", t)
        _beat(c, "V-s2" if t < T0 else "V-s2-new", t)
    assert _entrances(c, {"V": OpenVenue(2, T0 - 3600)}, T0 + 3600) == []
    # registered with three points, though: one is not heard, the old one is named
    assert _entrances(c, {"V": OpenVenue(3, T0 - 3600)}, T0 + 3600) == [
        ("silent_entrance", "V-s2")]


def test_a_wholly_silent_venue_is_silent_not_an_entrance() -> None:
    c = Compliance(RET)
    for t in range(T0 - 3600, T0, 300):
        _beat(c, "V-s1", t)
        _beat(c, "V-s2", t)
    assert _entrances(c, {"V": OpenVenue(2, T0 - 3600)}, T0 + 3600) == [("silent", None)]


def test_one_registered_point_and_scanners_unheard_for_a_day_are_not_judged() -> None:
    c = Compliance(RET)
    for t in range(T0 - 3600, T0 + 3600, 300):
        _beat(c, "V-s1", t)
    _beat(c, "V-s9", T0 - 3600)
    assert _entrances(c, {"V": OpenVenue(1, T0 - 3600)}, T0 + 3600) == []  # the venue is heard
    _beat(c, "V-s2", T0 - DAY - 3600)  # a scanner not heard for over a day
    assert _entrances(c, {"V": OpenVenue(3, T0 - 3600)}, T0 + 3500) == [
        ("silent_entrance", "V-s9")]


def test_an_entrance_is_judged_from_the_opening_not_from_last_night() -> None:
    c = Compliance(RET)
    _beat(c, "V-s2", T0 - 12 * 3600)  # heard at closing time last night
    for t in range(T0, T0 + 3600, 300):
        _beat(c, "V-s1", t)  # opened at T0: only door 1 heard
    reopened = {"V": OpenVenue(2, T0)}
    assert _entrances(c, reopened, T0 + SILENT_AFTER_S - 1) == []
    assert _entrances(c, reopened, T0 + SILENT_AFTER_S) == [("silent_entrance", "V-s2")]


def _reference(heard: list[tuple[int, str]], points: int, since_s: int, at_s: int) -> set[str]:
    """From the raw list of (time, scanner) heard at one venue, read up to ``at_s``: the
    entrances not scanned at ``at_s`` by the rule (a venue heard within SILENT_AFTER_S; fewer
    scanners heard in that time than points; a scanner heard within a day, silent that long
    while open)."""
    seen = [(t, s) for t, s in heard if t <= at_s]
    if points < 2 or not seen:
        return set()
    venue_last = max(t for t, _ in seen)
    if at_s - venue_last > DAY or at_s - max(venue_last, since_s) >= SILENT_AFTER_S:
        return set()  # not heard for a day, or silent as a whole
    recent = {s for t, s in seen if at_s - t < SILENT_AFTER_S}
    if len(recent) >= points:
        return set()
    out = set()
    for scanner in {s for _, s in seen}:
        last = max(t for t, s in seen if s == scanner)
        if at_s - last <= DAY and at_s - max(last, since_s) >= SILENT_AFTER_S:
            out.add(scanner)
    return out


def test_entrance_alerts_equal_the_reference_on_random_days() -> None:
    rng = random.Random(11731)
    flagged = 0
    for trial in range(40):
        points = rng.randint(1, 4)
        scanners = [f"V-s{i + 1}" for i in range(rng.randint(1, 4))]
        off = {s: sorted(rng.sample(range(0, 10 * 3600, 600), 2)) for s in scanners}
        heard = [(T0 + t, s) for s in scanners for t in range(rng.randint(0, 299), 10 * 3600, 300)
                 if not off[s][0] <= t < off[s][1]]
        heard.sort()
        since_s = T0 + rng.choice((0, 3600))
        c = Compliance(RET)
        i = 0
        for at_s in range(T0 + 600, T0 + 10 * 3600, 600):  # a silence check every 10 minutes
            while i < len(heard) and heard[i][0] <= at_s:
                _beat(c, heard[i][1], heard[i][0])
                i += 1
            c.raised.clear()  # every judgement, not only the first of each hour
            got = {a.facts["scanner"] for a in c.silent_venues(
                {"V": OpenVenue(points, since_s)}, at_s) if a.kind == "silent_entrance"}
            assert got == _reference(heard, points, since_s, at_s), (trial, at_s)
            flagged += len(got)
    assert flagged > 50, flagged  # the random days do flag entrances


RESTAURANT = venue_codec.from_mapping({
    "venue_id": "V", "name": "Nhà hàng", "district": "Thành phố Huế", "ward": "Phú Hội",
    "category": "restaurant", "opening_hours": {"mon": ["08:00-13:00"]}, "scanning_points": 3,
    "staff_count": 4})


def test_the_report_figures_count_the_entrances_not_heard() -> None:
    first = T0 // 3600  # 08:00 local
    heard = {first: 3, first + 1: 2, first + 2: 0, first + 3: 1}  # 12:00: no record at all
    r = VenueRecords()
    r.hours = {h: HourFigures("V", h, 5, 0, 5, 0, 0, 5, n, 0) for h, n in heard.items()}
    f = venue_figures(RESTAURANT, r, T0 - 8 * 3600, T0 + 16 * 3600)
    assert (f.open_hours, f.silent_open_hours) == (5, 2)
    # of the three hours heard: 0 + 1 + 2 entrances not heard, at most 2 in one hour
    assert (f.entrance_hours, f.silent_entrance_hours, f.silent_entrances) == (9, 3, 2)
    assert f.to_mapping()["silent_entrance_share"] == round(3 / 9, 4)
    assert "silent_entrance" in risk(f)[1]
    all_heard = VenueRecords()
    all_heard.hours = {h: HourFigures("V", h, 5, 0, 5, 0, 0, 5, 3, 0) for h in heard}
    f = venue_figures(RESTAURANT, all_heard, T0 - 8 * 3600, T0 + 16 * 3600)
    assert (f.silent_entrance_hours, f.silent_entrances) == (0, 0)
    assert "silent_entrance" not in risk(f)[1]
