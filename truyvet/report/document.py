"""The report as a file (pure): the API's report JSON rendered in a format and a language, and
the file's name, for ``truyvet report`` and ``GET /api/v1/report?format=``."""

from __future__ import annotations

from typing import Any

from truyvet.domain import localtime, names
from truyvet.report import csv_format, html_format, pdf_format
from truyvet.report.table import from_api

FORMATS = ("csv", "html", "pdf")
MEDIA_TYPES = {"csv": "text/csv", "html": "text/html", "pdf": "application/pdf"}


def render(body: dict[str, Any], fmt: str, lang: str) -> bytes:
    """``pdf`` prints the HTML with a headless Chromium (``pdf_format``)."""
    report = from_api(body)
    if fmt == "csv":
        return csv_format.render(report, lang)
    html = html_format.render(report, lang)
    return html if fmt == "html" else pdf_format.render(html)


def file_name(first_day: str, last_day: str, district: str | None, fmt: str) -> str:
    """``bao-cao-FIRST-LAST[-district].FORMAT``: the days as given (``YYYY-MM-DD``), the
    district folded to ASCII."""
    slug = f"-{names.slug(district)}" if district else ""
    return f"bao-cao-{first_day}-{last_day}{slug}.{fmt}"


def period_days(frm_s: int, to_s: int) -> tuple[str, str]:
    """The local first and last days of the period [frm_s, to_s) (its end excluded)."""
    return localtime.date_text(frm_s), localtime.date_text(to_s - 1)
