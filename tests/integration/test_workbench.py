"""The tracer workbench in a real headless Chromium on a running pipeline, as a tracer uses
it: find a venue typed without diacritics, declare a case's itinerary, see the stop the venue
did not scan as a gap and what it should have scanned, the case's F1 list equal to an
independent reference, a late scan arriving and the gap resolving on the page with what
changed, the F1 list downloaded as CSV and read back, the case in the tracer's list, English.
Screenshots go to test-output/workbench/."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from pathlib import Path

from tests.browser import Browser
from tests.conftest import Services, _free_port
from tests.integration.helpers import api_process, http_json, wait_caught_up, worker_process
from tests.reference import reference_stop, reference_visits
from truyvet import topics
from truyvet.api.tracing import f1_list
from truyvet.codec import venue as venue_codec
from truyvet.codec.checkin import CheckIn
from truyvet.domain import localtime
from truyvet.kafka.admin import ensure_topics
from truyvet.producers.scans import ScanPublisher
from truyvet.settings import ROOT, Settings

OUTPUT = ROOT / "test-output" / "workbench"
VENUES = {  # id: (name, address, ward, district, category)
    "TG": ("Cà phê Tam Giang", "12 Lê Lợi", "Phường Vĩnh Ninh", "Thành phố Huế", "cafe"),
    "TGX": ("Quán Tam Giang Xưa", "3 Chi Lăng", "Phường Phú Hậu", "Thành phố Huế", "restaurant"),
    "SH": ("Nhà hàng Sông Hương", "5 Trần Hưng Đạo", "Phường Phú Hòa", "Thành phố Huế",
           "restaurant"),
}
CASE, CARD = "BN-TTH-2021-0001", "TKS-46-0000001"


def _venue(vid: str) -> bytes:
    name, address, ward, district, category = VENUES[vid]
    return venue_codec.encode(venue_codec.from_mapping({
        "venue_id": vid, "name": name, "address": address, "ward": ward, "district": district,
        "category": category, "opening_hours": venue_codec.parse_hours_text("mon-sun 00:00-24:00"),
        "scanning_points": 1, "staff_count": 2}))


def _local_input(t_s: int) -> str:
    """What a tracer types into a datetime-local field: Vietnam time, to the minute."""
    return localtime.format_local(t_s * 1000)[:16]


def test_a_tracer_declares_a_case_sees_its_gap_resolve_and_exports_its_f1_list(
        services: Services, tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, worker_web_port=_free_port(), api_port=_free_port(),
                          api_token="test-token-0123456789abcdefghijklmnopqrstuv")
    ensure_topics(s)
    now = int(time.time())
    t0 = now - now % 3600 - 4 * 3600
    pub = ScanPublisher(s)
    for vid in VENUES:
        pub.producer.send(topics.venues(s), vid.encode(), _venue(vid))
    # (card, event, venue, direction, t): the case's card is scanned at SH, never at TG
    scans = [("k1", "e1", "TG", "in", t0 + 0), ("k1", "e2", "TG", "out", t0 + 3000),
             ("k2", "e3", "TG", "in", t0 + 2800), ("k2", "e4", "TG", "out", t0 + 3300),
             ("k3", "e5", "TG", "in", t0 + 600), ("k3", "e6", "TG", "out", t0 + 2400),
             ("k1", "e7", "SH", "in", t0 + 4000), ("k1", "e8", "SH", "out", t0 + 5000),
             ("k4", "e9", "SH", "in", t0 + 4700), ("k4", "e10", "SH", "out", t0 + 6000),
             (CARD, "e11", "SH", "in", t0 + 3900), (CARD, "e12", "SH", "out", t0 + 5400)]
    late = [(CARD, "e13", "TG", "in", t0 + 120), (CARD, "e14", "TG", "out", t0 + 3400)]
    for card, event, venue, direction, t in scans:
        pub.publish(CheckIn(event, card, venue, f"{venue}-s1", direction, t * 1000, "card"))
    assert pub.flush() == 0
    declared = [("TG", t0, t0 + 3600), ("SH", t0 + 3900, t0 + 5400)]
    expected = _reference_f1(s, scans + late, declared, now)

    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        wait_caught_up(s, 90, [worker])
        asyncio.run(_drive(s, declared, late, expected, pub, tmp_path))


def _reference_f1(s: Settings, scans: list[tuple[str, str, str, str, int]],
                  declared: list[tuple[str, int, int]], now: int) -> list[tuple[str, int]]:
    """The F1 list by the reference: cards close at any stop, (card, total overlap in s),
    ranked by overlap then card."""
    rules = s.rules()
    visits = reference_visits(scans, lambda v: rules.default_dwell_s, now, rules.retention_s)
    total: dict[str, int] = {}
    close: set[str] = set()
    for venue, frm, to in declared:
        stop = reference_stop(visits, CARD, venue, frm, to, rules.tolerance_s,
                              rules.close_contact_s)
        for c in stop["contacts"]:  # type: ignore[attr-defined]
            total[c["card_id"]] = total.get(c["card_id"], 0) + c["overlap_s"]
            if c["close_contact"]:
                close.add(c["card_id"])
    return sorted(((c, total[c]) for c in close), key=lambda x: (-x[1], x[0]))


async def _drive(s: Settings, declared: list[tuple[str, int, int]],
                 late: list[tuple[str, str, str, str, int]], expected: list[tuple[str, int]],
                 pub: ScanPublisher, tmp_path: Path) -> None:
    async with Browser(_free_port()) as b:
        try:
            await _check(b, s, declared, late, expected, pub)
            await _import(b, tmp_path)
        except BaseException:
            await b.screenshot(OUTPUT / "workbench-failure.png")
            raise


async def _import(b: Browser, tmp_path: Path) -> None:
    """A spreadsheet of cases: refused whole with its error's row, then imported."""
    head = "Mã ca,Phân loại,Mã thẻ,Mã cơ sở,Từ,Đến\n"
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(head + "BN-S1,F1,,SH,06/12/2021 19:00,06/12/2021 20:00\n"
                          "BN-S2,F1,,SH,chiều qua,06/12/2021 20:00\n", encoding="utf-8-sig")
    good.write_text(head + "BN-S1,F1,,SH,06/12/2021 19:00,06/12/2021 20:00\n", encoding="utf-8-sig")
    await b.set_files("#import-file", [bad])
    await b.eval(f"{q('#import-form')}.requestSubmit()")
    assert await b.wait_for(f"{q('#import-status')}?.dataset.status") == "refused"
    assert await b.eval("[...document.querySelectorAll('#import-result tbody tr')]"
                        ".map(e => e.dataset.row)") == ["3"]
    assert await b.eval(f"!!{q('#cases tr[data-case=BN-S1]')}") is False  # nothing imported
    await b.set_files("#import-file", [good])
    await b.eval(f"{q('#import-form')}.requestSubmit()")
    line = await b.wait_for(f"{q('#import-status')}?.dataset.status === 'imported' && "
                            f"{q('#import-result tr[data-case=BN-S1]')}.textContent")
    assert line.startswith("BN-S1New case"), line  # (the page is in English by now)
    await b.wait_for(f"!!{q('#cases tr[data-case=BN-S1]')}", timeout=30)


def q(selector: str) -> str:
    return f"document.querySelector({selector!r})"


async def _check(b: Browser, s: Settings, declared: list[tuple[str, int, int]],
                 late: list[tuple[str, str, str, str, int]], expected: list[tuple[str, int]],
                 pub: ScanPublisher) -> None:
    await b.goto(f"{s.api_url}/workbench/#token={s.api_token}")
    await b.wait_for(f"{q('#cases tbody')}?.textContent.includes('Chưa có ca nào')")
    assert await b.eval("location.hash") == ""  # the token left the address bar
    assert await b.eval("document.documentElement.lang") == "vi"
    assert "Bàn làm việc truy vết" in await b.eval(f"{q('h1')}.textContent")

    # the case, its stops found by typing without diacritics
    await b.eval(f"{q('#case-id')}.value = {CASE!r}; {q('#card-id')}.value = {CARD!r};"
                 f"{q('#classification')}.value = 'F0'")
    for i, (typed, venue) in enumerate((("ca phe tam giang", "TG"), ("song huong", "SH"))):
        if i:
            await b.eval(f"{q('#add-stop')}.click()")
        li = f"document.querySelectorAll('#stops > li')[{i}]"
        await b.eval(f"(() => {{ const e = {li}.querySelector('.venue-q'); e.value = {typed!r};"
                     f"e.dispatchEvent(new Event('input')); }})()")
        first = await b.wait_for(f"{li}.querySelector('.venue-results li')?.dataset.venue")
        assert first == venue, (typed, first)
        if venue == "TG":
            found = await b.eval(f"[...{li}.querySelectorAll('.venue-results li')]"
                                 f".map(e => e.dataset.venue)")
            assert found == ["TG"], found  # "ca phe" begins no word of "Quán Tam Giang Xưa"
        await b.eval(f"{li}.querySelector('.venue-results li').click()")
        _, frm, to = declared[i]
        await b.eval(f"{li}.querySelector('.from').value = {_local_input(frm)!r};"
                     f"{li}.querySelector('.to').value = {_local_input(to)!r}")
        assert await b.eval(f"{li}.querySelector('.venue-q').value") == VENUES[venue][0]
    await b.eval(f"{q('#case-form')}.requestSubmit()")

    # the answer: the stop at TG is a gap, the one at SH verified
    stop = "document.querySelector('#timeline li[data-stop=\"{}\"]')?.dataset.state"
    assert await b.wait_for(stop.format(0)) == "gap"
    assert await b.eval(stop.format(1)) == "verified"
    first_should = q('#timeline li[data-stop="0"] .should')
    should = await b.eval(f"{first_should}.textContent")
    assert "Cà phê Tam Giang phải quét mã QR cá nhân" in should and CARD in should, should
    f1_rows = "[...document.querySelectorAll('#f1 tbody tr')].map(e => e.dataset.card)"
    assert await b.wait_for(f1_rows) == [c for c, _ in expected]
    gaps_cell = q(f'#cases tr[data-case="{CASE}"] [data-figure=gaps]')
    await b.wait_for(f"{gaps_cell}?.textContent === '1'", timeout=30)
    await b.screenshot(OUTPUT / "workbench-gap-vi.png")

    # the venue's scans arrive late: the gap resolves on the page, and it says what changed
    for card, event, venue, direction, t in late:
        pub.publish(CheckIn(event, card, venue, f"{venue}-s1", direction, t * 1000, "card"))
    assert pub.flush() == 0
    assert await b.wait_for(f"({stop.format(0)}) === 'verified' && {stop.format(0)}",
                            timeout=120) == "verified"
    changes = await b.wait_for(f"{q('#changes li')}?.textContent")
    assert "Điểm 1: đã có dữ liệu quét" in changes, changes
    assert await b.eval(f"{q('#live')}.className") == "live"
    await b.wait_for(f"{gaps_cell}?.textContent === '0'", timeout=30)  # the list follows
    assert await b.eval(f1_rows) == [c for c, _ in expected]

    # follow-up of the first F1, chosen on the page: recorded with who and when, kept in
    # Kafka (the API's list says it), counted in the report
    first_f1 = expected[0][0]
    select = q(f'select.followup[data-card="{first_f1}"]')
    assert await b.eval(f"{select}.value") == "not_contacted"
    await b.eval(f"{select}.value = 'isolated'; {select}.dispatchEvent(new Event('change'))")
    me = _api(s, "/api/v1/whoami")["name"]
    assert await b.wait_for(f"{q(f'[data-followup-by]')}?.dataset.followupBy || null") == me
    listed = _api(s, f"/api/v1/itineraries/{CASE}/followups")
    assert [(f["card_id"], f["status"], f["by"]) for f in listed["followups"]] == [
        (c, "isolated" if c == first_f1 else "not_contacted", me if c == first_f1 else None)
        for c, _ in expected]
    report = _api(s, "/api/v1/report")
    assert report["followups"]["statuses"] == {
        "not_contacted": len(expected) - 1, "contacted": 0, "tested": 0, "isolated": 1}

    # the F1 list as CSV: read back what the tracer downloads
    await b.eval(f"{q('#export-csv')}.click()")
    await b.wait_for(f"{q('#csv-link')}?.href?.startsWith('blob:')")
    raw = bytes(await b.eval(f"fetch({q('#csv-link')}.href).then(r => r.arrayBuffer())"
                             f".then(a => [...new Uint8Array(a)])"))
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: a spreadsheet shows the diacritics
    assert (await b.eval(f"{q('#csv-link')}.download")).startswith(f"f1-{CASE}-r")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == f1_list.HEADERS["vi"]
    assert [(r[1], r[2]) for r in rows[1:]] == [(c, "có") for c, _ in expected]
    assert [float(r[3]) for r in rows[1:]] == [round(o / 60, 1) for _, o in expected]
    await b.screenshot(OUTPUT / "workbench-resolved-vi.png")

    # English
    await b.eval(f"{q('button[data-lang=en]')}.click()")
    await b.wait_for(f"{q('h1')}.textContent.startsWith('Tracer workbench')")
    await b.wait_for(f"{q('#timeline .badge')}?.textContent === 'Scan on record'")
    assert await b.eval("document.documentElement.lang") == "en"
    await b.screenshot(OUTPUT / "workbench-en.png")

    # offline: every resource the page loaded came from the API itself
    origins = await b.eval("[...new Set(performance.getEntriesByType('resource')"
                           ".map(e => new URL(e.name).origin))]")
    assert origins == [s.api_url], origins
    assert await b.eval(f"{q('#error')}.hidden")


LAN, MINH = "lan-token-0123456789abcdefghij", "minh-token-0123456789abcdefghi"


def _sheet(s: Settings, token: str, text: str, content_type: str = "text/csv",
           ) -> tuple[int, dict]:
    import orjson

    from truyvet import api_client

    status, raw = api_client.call_raw(s.api_url, token, "POST", "/api/v1/imports/itineraries",
                                      text.encode("utf-8-sig"), content_type=content_type)
    return status, orjson.loads(raw)


def test_a_sheet_of_itineraries_is_imported_whole_or_not_at_all(services: Services,
                                                                tmp_path: Path) -> None:
    from tests.integration.helpers import http_json

    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, worker_web_port=_free_port(), api_port=_free_port(),
                          api_token="", api_tokens=f"lan:tracer:{LAN},minh:tracer:{MINH}")
    ensure_topics(s)
    now = int(time.time())
    t0 = now - now % 3600 - 4 * 3600
    pub = ScanPublisher(s)
    for vid in VENUES:
        pub.producer.send(topics.venues(s), vid.encode(), _venue(vid))
    scans = [(CARD, "a1", "TG", "in", t0), (CARD, "a2", "TG", "out", t0 + 1800),
             ("k1", "a3", "TG", "in", t0 + 300), ("k1", "a4", "TG", "out", t0 + 1500)]
    for card, event, venue, direction, t in scans:
        pub.publish(CheckIn(event, card, venue, f"{venue}-s1", direction, t * 1000, "card"))
    assert pub.flush() == 0
    rules = s.rules()
    visits = reference_visits(scans, lambda v: rules.default_dwell_s, now, rules.retention_s)
    declared = {"BN-A": [("TG", t0, t0 + 1800), ("SH", t0 + 3600, t0 + 5400)],
                "BN-B": [("SH", t0, t0 + 600)]}
    card_of = {"BN-A": CARD, "BN-B": None}
    expected = {}
    for case, stops in declared.items():
        refs = [reference_stop(visits, card_of[case], v, a, b, rules.tolerance_s,
                               rules.close_contact_s) for v, a, b in stops]
        expected[case] = {"stops": len(stops), "verified": sum(r["verified"] is True for r in refs),
                          "gaps": sum(bool(r["gap"]) for r in refs),
                          "contacts": sum(len(r["contacts"]) for r in refs),  # type: ignore[arg-type]
                          "close_contacts": sum(c["close_contact"] for r in refs
                                                for c in r["contacts"])}  # type: ignore[attr-defined]

    def d(t_s: int) -> str:  # as a spreadsheet in Vietnam writes it: day first
        iso = _local_input(t_s)
        return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]} {iso[11:]}"

    head = "Mã ca;Phân loại;Mã thẻ;Mã cơ sở;Từ;Đến\r\n"
    rows = [f"BN-A;F0;{CARD};TG;{d(t0)};{d(t0 + 1800)}",
            f"BN-B;F1;;SH;{d(t0)};{d(t0 + 600)}",
            f"BN-A;F0;;SH;{d(t0 + 3600)};{d(t0 + 5400)}"]
    good = head + "\r\n".join(rows) + "\r\n"
    bad = head + "\r\n".join([*rows[:2], f"BN-C;F0;;TG;hôm qua;{d(t0)}", rows[2]]) + "\r\n"

    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        wait_caught_up(s, 90, [worker])
        status, body = _sheet(s, LAN, bad)
        assert status == 400, body
        assert [(r["row"], r["column"], r["reason"]) for r in body["rows"]] == [
            (4, "from", "bad_timestamp")]
        assert "row 4" in body["error"]["detail"] and "nothing was imported" in body["error"]["detail"]
        assert http_json(s, "GET", "/api/v1/itineraries", token=LAN)[1]["total"] == 0  # nothing
        assert _sheet(s, LAN, good, "application/json")[0] == 415

        status, body = _sheet(s, LAN, good)
        assert status == 200, body
        assert [(c["case_id"], c["outcome"], c["revision"]) for c in body["imported"]] == [
            ("BN-A", "opened", 1), ("BN-B", "opened", 1)]
        assert {c["case_id"]: c["counts"] for c in body["imported"]} == expected
        status, listed = http_json(s, "GET", "/api/v1/itineraries", token=LAN)
        assert sorted(c["case_id"] for c in listed["cases"]) == ["BN-A", "BN-B"]
        status, a = http_json(s, "GET", "/api/v1/itineraries/BN-A", token=LAN)
        assert [(st["venue_id"], st["from"]) for st in a["stops"]] == [
            ("TG", _utc(t0)), ("SH", _utc(t0 + 3600))]  # Vietnam time read right

        status, body = _sheet(s, LAN, good)  # sent again: nothing changes
        assert [(c["outcome"], c["revision"]) for c in body["imported"]] == [
            ("unchanged", 1), ("unchanged", 1)]
        status, body = _sheet(s, MINH, head + f"BN-M;F0;;SH;{d(t0)};{d(t0 + 60)}\r\n" + rows[0])
        assert status == 403 and body["error"]["reason"] == "not_your_case", body
        assert "BN-A" in body["error"]["detail"]
        assert http_json(s, "GET", "/api/v1/itineraries", token=MINH)[1]["total"] == 0


def _utc(t_s: int) -> str:
    from truyvet.codec.timefmt import format_ms

    return format_ms(t_s * 1000)


def _api(s: Settings, path: str) -> dict:
    status, body = http_json(s, "GET", path)
    assert status == 200, (path, body)
    return body  # type: ignore[return-value]
