"""The report's CSV and HTML carry exactly the API's numbers, in Vietnamese or English."""

from __future__ import annotations

from typing import Any

import pytest

from truyvet.domain.compliance.figures import Figures
from tests.report_readers import csv_rows, html_rows, parse_number
from truyvet.report import csv_format, html_format
from truyvet.report.labels import CATEGORIES, LANGS, OUTCOME_ORDER, REASONS
from truyvet.report.table import FIGURES, from_api, number, values


def _figures(seed: int, **extra: Any) -> dict[str, Any]:
    f = Figures(venues=seed + 1, venues_scanning=seed, people_counted=1000 * seed + 7,
                people_scanned=850 * seed, gaps_flagged=seed % 3, gaps_resolved=seed % 2,
                alerts=2 * seed, inspections=seed, venues_inspected=min(seed, 1),
                outcomes={"fined": seed} if seed else {}, **extra)
    return f.to_mapping()


def _body() -> dict[str, Any]:
    districts = []
    for n, name in enumerate(("Thành phố Huế", "Huyện A Lưới")):
        districts.append({"district": name, "figures": _figures(n + 3),
                          "hospitality": _figures(n + 1),
                          "categories": [{"category": "cafe", "figures": _figures(n + 1)},
                                         {"category": "market", "figures": _figures(0)}]})
    return {"v": 1, "from": "2021-12-05T17:00:00Z", "to": "2021-12-12T17:00:00Z",
            "district": None, "generated_at": "2021-12-12T10:30:00Z",
            "total": _figures(12), "districts": districts,
            "worst_venues": [{"venue": {"venue_id": "HUE-BR-0001", "name": "Quán nhậu Đông Ba",
                                        "district": "Thành phố Huế", "ward": "Phường Đông Ba",
                                        "category": "bar"},
                              "risk": 7.25, "reasons": ["gaps", "venue_qr"],
                              "figures": _figures(2)}]}


def _expected(figures: dict[str, Any]) -> dict[str, Any]:
    return values(figures)


@pytest.mark.parametrize("lang", LANGS)
def test_csv_numbers_are_the_apis(lang: str) -> None:
    body = _body()
    rows = csv_rows(csv_format.render(from_api(body), lang), lang)
    assert [r["scope"] for r in rows] == ["total", "district", "district", "hospitality",
                                          "hospitality", "category", "category", "category",
                                          "category", "venue"]
    expected = [body["total"], *(d["figures"] for d in body["districts"]),
                *(d["hospitality"] for d in body["districts"]),
                *(c["figures"] for d in body["districts"] for c in d["categories"]),
                body["worst_venues"][0]["figures"]]
    for row, figures in zip(rows, expected, strict=True):
        assert {k: row[k] for k in FIGURES} == _expected(figures)
    assert rows[-1]["venue_id"] == "HUE-BR-0001"
    assert rows[5]["category"] == CATEGORIES[lang]["cafe"]


@pytest.mark.parametrize("lang", LANGS)
def test_html_numbers_are_the_apis(lang: str) -> None:
    body = _body()
    html = html_format.render(from_api(body), lang)
    rows, _ = html_rows(html)
    by_scope = {(r["scope"], r["district"], r["category"]): r["figures"] for r in rows}
    for d in body["districts"]:
        got = by_scope[("district", d["district"], "")]
        assert {k: parse_number(v, lang) for k, v in got.items()} == _expected(d["figures"])
        got = by_scope[("hospitality", d["district"], "")]
        assert {k: parse_number(v, lang) for k, v in got.items()} == _expected(d["hospitality"])
    total = {k: parse_number(v, lang) for k, v in by_scope[("total", "", "")].items()}
    assert total == _expected(body["total"])
    text = html.decode()
    assert '<html lang="%s">' % lang in text and "size: A4" in text
    assert "http://" not in text and "https://" not in text  # prints offline
    assert REASONS[lang]["venue_qr"] in text and "Quán nhậu Đông Ba" in text


def test_vietnamese_is_the_default_language_with_the_directives_terms() -> None:
    text = html_format.render(from_api(_body()), "vi").decode()
    for term in ("Sở Thông tin và Truyền thông", "Thẻ kiểm soát dịch bệnh", "PC-COVID",
                 "Tuần cao điểm", "quét mã QR", "Tạm dừng hoạt động", "Xử phạt",
                 "11731/UBND-CN", "từ ngày 06/12/2021 đến ngày 12/12/2021"):
        assert term in text, term


def test_numbers_are_written_as_each_language_reads_them() -> None:
    assert number(12345, "vi") == "12.345" and number(12345, "en") == "12,345"
    assert number(85.25, "vi") == "85,2" and number(1234.5, "en") == "1,234.5"
    assert number(None, "vi") == "–"
    assert parse_number(number(1234567, "vi"), "vi") == 1234567


def test_unknown_coverage_stays_unknown() -> None:
    assert values(Figures(venues=1).to_mapping())["coverage"] is None
    assert set(OUTCOME_ORDER) <= set(FIGURES)


def test_a_report_file_is_named_by_its_local_days_and_district() -> None:
    from truyvet.codec.timefmt import parse_ms
    from truyvet.report import document

    # the inspection week 06/12–12/12/2021: Vietnam's midnights are 17:00 UTC the day before
    frm = parse_ms("2021-12-05T17:00:00Z") // 1000
    to = parse_ms("2021-12-12T17:00:00Z") // 1000
    assert document.period_days(frm, to) == ("2021-12-06", "2021-12-12")  # its end excluded
    assert document.file_name("2021-12-06", "2021-12-12", "Thành phố Huế", "csv") == \
        "bao-cao-2021-12-06-2021-12-12-thanh-pho-hue.csv"
    assert document.file_name("2021-12-06", "2021-12-12", None, "pdf") == \
        "bao-cao-2021-12-06-2021-12-12.pdf"


def test_every_alert_kind_and_reason_has_its_words_in_both_languages() -> None:
    """The kinds and reasons the schemas allow (not the code's own lists) are all worded."""
    import json
    import string
    from pathlib import Path

    from truyvet.report.labels import ALERT_DETAILS, ALERT_KINDS

    schemas = Path(__file__).resolve().parents[2] / "schemas"
    kinds = json.loads((schemas / "alert.v1.schema.json").read_text())["properties"]["kind"]["enum"]
    reasons: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            enum = x.get("enum")
            if isinstance(enum, list) and "no_exit_scans" in enum:
                reasons.update(enum)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(json.loads((schemas / "openapi.v1.json").read_text()))
    assert "silent_entrance" in kinds and "silent_entrance" in reasons
    examples = {json.loads(p.read_text())["kind"]: json.loads(p.read_text())["facts"]
                for p in (schemas / "examples" / "alert.v1").glob("valid-*.json")}
    for lang in LANGS:
        assert set(kinds) <= set(ALERT_KINDS[lang]) and set(kinds) <= set(ALERT_DETAILS[lang])
        assert reasons <= set(REASONS[lang]), reasons - set(REASONS[lang])
        for kind, facts in examples.items():  # each wording's blanks are the alert's facts
            blanks = {f for _, f, _, _ in string.Formatter().parse(ALERT_DETAILS[lang][kind]) if f}
            assert blanks - {"pct"} <= set(facts), (lang, kind)
