"""Read the report's figures back from its CSV, HTML and PDF, to compare with the API's."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

from truyvet.report.labels import COLUMNS, TEXT
from truyvet.report.table import FIGURES


def parse_number(text: str, lang: str) -> float | int | None:
    text = text.strip()
    if text in ("", "–"):
        return None
    if lang == "vi":
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    return float(text) if "." in text else int(text)


def csv_rows(data: bytes, lang: str) -> list[dict[str, object]]:
    """Each row: scope label, district, category, venue id, then figures by key."""
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark"
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = next(reader)
    cols = COLUMNS[lang]
    index = {k: header.index(cols[k]) for k in FIGURES}
    t = TEXT[lang]
    scopes = {t[f"scope_{k}"]: k for k in ("total", "district", "hospitality", "category", "venue")}
    out = []
    for row in reader:
        out.append({"scope": scopes[row[0]], "district": row[1], "category": row[2],
                     "venue_id": row[3],
                     **{k: (None if row[i] == "" else float(row[i]) if "." in row[i]
                            else int(row[i])) for k, i in index.items()}})
    return out


class _Cells(HTMLParser):
    """Collects, per ``<tr data-scope…>``, its attributes and its ``data-figure`` cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, object]] = []
        self.figure: str | None = None
        self.text: list[str] = []  # every figure cell's text, in document order

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-scope" in a:
            self.rows.append({"scope": a["data-scope"], "district": a.get("data-district", ""),
                              "category": a.get("data-category", ""),
                              "venue_id": a.get("data-venue", ""), "figures": {}})
        elif tag == "td" and "data-figure" in a:
            self.figure = a["data-figure"]

    def handle_data(self, data: str) -> None:
        if self.figure is not None:
            self.rows[-1]["figures"][self.figure] = data  # type: ignore[index]
            self.text.append(data)
            self.figure = None


def html_rows(data: bytes) -> tuple[list[dict[str, object]], list[str]]:
    p = _Cells()
    p.feed(data.decode())
    return p.rows, p.text


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def in_order(needles: list[str], haystack: str) -> list[str]:
    """The needles (whole tokens) not found in order in ``haystack``."""
    tokens = re.findall(r"\S+", haystack)
    missing, pos = [], 0
    for n in needles:
        try:
            pos = tokens.index(n, pos) + 1
        except ValueError:
            missing.append(n)
    return missing
