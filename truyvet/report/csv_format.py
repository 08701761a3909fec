"""The report as one CSV table: a row per scope (province, district, inspection-week venues of
a district, district and category, venue to correct), UTF-8 with a byte-order mark so that
spreadsheet programs show Vietnamese diacritics. Numbers are machine-readable (no thousands
separator, ``.`` decimal); coverage is a percentage; an unknown coverage is empty."""

from __future__ import annotations

import csv
import io

from truyvet.report.labels import CATEGORIES, COLUMNS, REASONS, TEXT
from truyvet.report.table import FIGURES, Report


def render(report: Report, lang: str) -> bytes:
    t, cols = TEXT[lang], COLUMNS[lang]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([t["section"], t["district"], t["category"], t["venue_id"], t["venue"], t["ward"],
                *(cols[k] for k in FIGURES), t["risk"], t["reasons"]])
    for row in report.rows():
        w.writerow([
            t[f"scope_{row.scope}"], row.district or (t["province"] if row.scope == "total" else ""),
            CATEGORIES[lang].get(row.category, row.category), row.venue_id, row.venue_name,
            row.ward, *("" if row.values[k] is None else row.values[k] for k in FIGURES),
            "" if row.risk is None else row.risk,
            "; ".join(REASONS[lang].get(r, r) for r in row.reasons),
        ])
    return out.getvalue().encode("utf-8-sig")
