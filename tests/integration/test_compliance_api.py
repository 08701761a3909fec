"""Compliance through the API on a running pipeline: a venue that does not scan is alerted and
ranked first for inspection; an inspection recorded through the API appears in the report;
the report's numbers are the API's."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from truyvet.producers.scans import ScanPublisher
from tests.conftest import Services, _free_port
from tests.integration.helpers import (api_process, http_json, poll_until, truyvet_cli,
                                       wait_caught_up, worker_process)
from tests.report_readers import csv_rows, html_rows, in_order, parse_number, pdf_text
from truyvet import topics
from truyvet.codec import headcount as headcount_codec
from truyvet.codec import heartbeat as heartbeat_codec
from truyvet.codec import venue as venue_codec
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms
from truyvet.kafka.admin import ensure_topics
from truyvet.report.table import FIGURES, values
from truyvet.settings import Settings

HOURS = "mon-sun 00:00-24:00"


def _venue(vid: str, district: str, category: str, assumed: tuple[str, ...] = ()) -> bytes:
    return venue_codec.encode(venue_codec.from_mapping({
        "venue_id": vid, "name": f"Quán {vid}", "district": district, "ward": "Phường Phú Hội",
        "category": category, "opening_hours": venue_codec.parse_hours_text(HOURS),
        "scanning_points": 1, "staff_count": 1, "assumed": list(assumed)}))


def test_alert_rank_inspect_report(services: Services, tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, worker_web_port=_free_port(), api_port=_free_port(),
                          api_token="test-token-0123456789abcdefghijklmnopqrstuv")
    ensure_topics(s)
    now = int(time.time())
    t0 = now - now % 3600 - 2 * 3600
    pub = ScanPublisher(s)
    send = pub.producer.send
    send(topics.venues(s), b"GOOD", _venue("GOOD", "Thành phố Huế", "cafe"))
    send(topics.venues(s), b"BAD", _venue("BAD", "Thành phố Huế", "bar"))
    # FAR came from the province's list, which gave neither its entrances nor its staff
    send(topics.venues(s), b"FAR", _venue("FAR", "Huyện A Lưới", "market",
                                          ("scanning_points", "staff_count")))
    for i in range(10):  # GOOD scans everyone in and out; BAD scans 3 of 10, one by poster
        pub.publish(CheckIn(f"g{i}", f"p{i}", "GOOD", "GOOD-s1", "in", (t0 + 60 * i) * 1000, "app"))
        pub.publish(CheckIn(f"h{i}", f"p{i}", "GOOD", "GOOD-s1", "out", (t0 + 3000) * 1000, "app"))
    for i in range(3):
        method = "venue_qr" if i == 2 else "card"
        pub.publish(CheckIn(f"b{i}", f"q{i}", "BAD", "BAD-s1", "in", (t0 + 60 * i) * 1000, method))
    # GOOD's scanner beats now: the compliance job tells how far the province has come from
    # the scanners' records (a province where nothing at all was sent for two hours would be
    # an outage, and nobody would be judged)
    send(topics.heartbeats(s), b"GOOD", heartbeat_codec.encode(
        heartbeat_codec.Heartbeat("GOOD-s1", "GOOD", now * 1000)), timestamp_ms=now * 1000)
    for vid, counted in (("GOOD", 10), ("BAD", 10)):
        send(topics.headcounts(s), vid.encode(), headcount_codec.encode(headcount_codec.Headcount(
            f"hc-{vid}", vid, t0 * 1000, (t0 + 3600) * 1000, counted, "door_counter")))
    assert pub.flush() == 0

    with worker_process(s, tmp_path / "worker.log") as worker, api_process(s, tmp_path / "api.log"):
        # a case declares a visit to BAD that was not scanned: a gap, flagged against BAD
        status, _ = http_json(s, "POST", "/api/v1/itineraries", {
            "case_id": "case-1", "classification": "F0", "card_id": "q9",
            "stops": [{"venue_id": "BAD", "from": format_ms(t0 * 1000),
                       "to": format_ms((t0 + 1800) * 1000)}]})
        assert status == 201
        wait_caught_up(s, 90, [worker])
        frm, to = format_ms((t0 - 3600) * 1000), format_ms((now + 60) * 1000)
        q = f"from={frm}&to={to}"

        bad = poll_until(lambda: http_json(s, "GET", f"/api/v1/compliance/venues/BAD?{q}")[1],
                     lambda b: b["figures"]["gaps_flagged"] == 1 and len(b["alerts"]) >= 3)
        f = bad["figures"]
        assert (f["scans_in"], f["venue_qr"], f["people_counted"], f["people_scanned"]) == (3, 1, 10, 3)
        assert f["coverage"] == 0.3 and {a["kind"] for a in bad["alerts"]} >= {"venue_qr", "low_coverage"}
        good = http_json(s, "GET", f"/api/v1/compliance/venues/GOOD?{q}")[1]
        assert good["figures"]["coverage"] == 1.0
        # exits are judged on whole days only: GOOD's (everyone scanned out) once its day in
        # Vietnam (UTC+7) has ended by the end of the window, not while it runs
        vn_day = lambda t: (t + 7 * 3600) // 86400  # noqa: E731
        ended = vn_day(t0) <= vn_day(now + 60 - 86400)
        assert good["figures"]["exit_share"] == (1.0 if ended else None)
        day_end = (now + 7 * 3600) // 86_400 * 86_400 + 86_400 - 7 * 3600  # next local midnight
        whole_day = f"from={frm}&to={format_ms(day_end * 1000)}"
        good = http_json(s, "GET", f"/api/v1/compliance/venues/GOOD?{whole_day}")[1]
        assert good["figures"]["exit_share"] == 1.0

        status, _ = http_json(s, "POST", "/api/v1/campaigns", {
            "campaign_id": "peak", "name": "Tuần cao điểm", "from": frm, "to": to,
            "categories": ["cafe", "restaurant", "bar"]})
        assert status == 201
        queue = http_json(s, "GET", "/api/v1/campaigns/peak/queue")[1]
        ranked = queue["venues"]
        assert [r["venue"]["venue_id"] for r in ranked] == ["BAD", "GOOD"]  # FAR: not targeted
        assert {"gaps", "low_coverage", "venue_qr"} <= set(ranked[0]["reasons"]), str((queue["evidence"], ranked[0]["figures"]))

        status, insp = http_json(s, "POST", "/api/v1/inspections", {
            "campaign_id": "peak", "venue_id": "BAD", "inspector": "tt-hue-03",
            "observed_from": format_ms((now - 1800) * 1000), "observed_to": format_ms(now * 1000),
            "scanning_points_observed": 0, "people_counted": 12, "people_scanned": 2,
            "outcome": "fined", "notes": "Không quét mã QR."})
        assert status == 201 and insp["inspection_id"]
        listed = http_json(s, "GET", f"/api/v1/inspections?{q}&venue_id=BAD")[1]["inspections"]
        assert [i["inspection_id"] for i in listed] == [insp["inspection_id"]]
        before = f"from={format_ms((now - 7200) * 1000)}&to={format_ms((now - 1800) * 1000)}"
        assert http_json(s, "GET", f"/api/v1/inspections?{before}")[1]["inspections"] == []
        assert http_json(s, "POST", "/api/v1/inspections", {**insp, "outcome": "x"})[0] == 400
        assert http_json(s, "POST", "/api/v1/inspections", {
            **{k: v for k, v in insp.items() if k not in ("inspection_id", "recorded_at", "v")},
            "venue_id": "NOWHERE"})[0] == 404

        report = poll_until(lambda: http_json(s, "GET", f"/api/v1/report?{q}")[1],
                        lambda r: r["total"]["inspections"] == 1)
        hue = next(d for d in report["districts"] if d["district"] == "Thành phố Huế")
        assert hue["figures"]["venues"] == 2 and hue["figures"]["venues_inspected"] == 1
        assert hue["figures"]["outcomes"] == {"fined": 1}
        assert report["worst_venues"][0]["venue"]["venue_id"] == "BAD"
        registry = report["registry"]  # the venues whose records assume data, to complete
        assert (registry["venues"], registry["incomplete"]) == (3, 1)
        assert registry["assumed"] == {"opening_hours": 0, "scanning_points": 1, "staff_count": 1}
        assert [(v["venue_id"], v["assumed"]) for v in registry["incomplete_venues"]] == [
            ("FAR", ["scanning_points", "staff_count"])]
        status, refused = http_json(s, "GET", f"/api/v1/report?{q}&district=Thanh%20pho%20Hoi")
        assert status == 404 and "Thành phố Huế" in refused["error"]["detail"]  # names the known
        one = http_json(s, "GET", f"/api/v1/report?{q}&district=Huy%E1%BB%87n%20A%20L%C6%B0%E1%BB%9Bi")[1]
        assert [d["district"] for d in one["districts"]] == ["Huyện A Lưới"]
        # typed without diacritics, in any case: the same district, named as registered
        for typed in ("huyen%20a%20luoi", "HUYEN%20A%20LUOI", "Huy%C3%AAn%20A%20Luoi"):
            status, same = http_json(s, "GET", f"/api/v1/report?{q}&district={typed}")
            assert status == 200 and same["district"] == "Huyện A Lưới"
            assert same["districts"] == one["districts"], typed
        # a campaign for districts typed without diacritics names them as registered
        status, far_week = http_json(s, "POST", "/api/v1/campaigns", {
            "campaign_id": "far-week", "name": "A Lưới", "from": frm, "to": to,
            "categories": ["cafe"], "districts": ["huyen a luoi", "HUYỆN A LƯỚI"]})
        assert status == 201 and far_week["districts"] == ["Huyện A Lưới"], far_week
        status, refused = http_json(s, "POST", "/api/v1/campaigns", {
            "campaign_id": "nowhere-week", "name": "x", "from": frm, "to": to,
            "categories": ["cafe"], "districts": ["huyen khong co"]})
        assert status == 404 and "Huyện A Lưới" in refused["error"]["detail"]
        hue_only = http_json(s, "GET", f"/api/v1/compliance?{q}&district=thanh%20pho%20hue")[1]
        assert [r["district"] for r in hue_only["rows"]] == ["Thành phố Huế"]

        # the registry searched as a tracer types: no diacritics, a district to narrow it
        found = http_json(s, "GET", "/api/v1/venues?q=quan%20bad")[1]["venues"]
        assert [v["venue_id"] for v in found] == ["BAD"] and found[0]["name"] == "Quán BAD"
        assert found[0]["district"] == "Thành phố Huế" and found[0]["scanning_points"] == 1
        every = http_json(s, "GET", "/api/v1/venues?q=QUAN")[1]["venues"]
        assert [v["venue_id"] for v in every] == ["BAD", "FAR", "GOOD"]  # by name
        far = http_json(s, "GET", "/api/v1/venues?q=quan&district=huyen%20a%20luoi")[1]
        assert [v["venue_id"] for v in far["venues"]] == ["FAR"]
        assert http_json(s, "GET", "/api/v1/venues?q=phuong%20phu%20hoi&limit=1")[1][
            "venues"][0]["venue_id"] == "BAD"  # the ward's words match too
        for bad in ("q=", "q=%20", "q=quan&limit=0", "q=quan&limit=x", "q=" + "a" * 201):
            assert http_json(s, "GET", f"/api/v1/venues?{bad}")[0] == 400, bad
        assert http_json(s, "GET", "/api/v1/venues?q=quan&district=nowhere")[0] == 404
        rows = http_json(s, "GET", f"/api/v1/compliance?{q}&by=district")[1]["rows"]
        assert {r["district"]: r["figures"] for r in rows} == \
            {d["district"]: d["figures"] for d in report["districts"]}  # the same numbers

        # truyvet report, as a district officer runs it: CSV, HTML and PDF carry these numbers
        files = _report_files(s, tmp_path, frm, to, q)
        body = files["json"]
        expected = {d["district"]: values(d["figures"]) for d in body["districts"]}
        expected[""] = values(body["total"])
        for lang in ("vi", "en"):
            rows = csv_rows(files[f"csv-{lang}"], lang)
            got = {r["district"] if r["scope"] == "district" else "": {k: r[k] for k in FIGURES}
                   for r in rows if r["scope"] in ("district", "total")}
            assert got == expected
            assert [r["venue_id"] for r in rows if r["scope"] == "venue"][0] == "BAD"
            html_table, cells = html_rows(files[f"html-{lang}"])
            got = {r["district"]: {k: parse_number(v, lang) for k, v in r["figures"].items()}
                   for r in html_table if r["scope"] in ("district", "total")}
            assert got == expected
            text = pdf_text(files[f"pdf-{lang}"])
            assert in_order(cells, text) == [], "every HTML figure is in the PDF, in order"
        assert expected["Thành phố Huế"]["fined"] == 1  # the inspection recorded above
        pdf_vi = " ".join(pdf_text(files["pdf-vi"]).split())
        assert "Sở Thông tin và Truyền thông" in pdf_vi and "Xử phạt" in pdf_vi
        assert "Cơ sở chưa đủ thông tin đăng ký" in pdf_vi and "Quán FAR" in pdf_vi
        assert "Department of Information and Communications" in " ".join(pdf_text(files["pdf-en"]).split())


def _report_files(s: Settings, out: Path, frm: str, to: str, q: str) -> dict[str, object]:
    """The API's report JSON and ``truyvet report`` in every format and language for the same
    period, retried until the API's answer did not change while the files were written."""
    for _ in range(5):
        before = http_json(s, "GET", f"/api/v1/report?{q}")[1]
        files: dict[str, object] = {"json": before}
        for lang in ("vi", "en"):
            for fmt in ("csv", "html", "pdf"):
                path = out / f"report-{lang}.{fmt}"
                done = truyvet_cli(s, "report", "--from", frm, "--to", to, "--format", fmt,
                                   "--lang", lang, "--output", str(path))
                assert done.returncode == 0, done.stderr.decode()
                files[f"{fmt}-{lang}"] = path.read_bytes()
        after = http_json(s, "GET", f"/api/v1/report?{q}")[1]
        if {**before, "generated_at": ""} == {**after, "generated_at": ""}:
            return files
    raise AssertionError("the report kept changing")
