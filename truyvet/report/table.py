"""The report as rows of numbers, from the API's ``GET /api/v1/report`` answer (pure).

CSV, HTML and PDF are all drawn from these rows, so they carry the API's numbers and no
other: nothing here recomputes a figure except the percentages shown from the API's
fractions (coverage, poster self-scans, exit scans).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from truyvet.codec.timefmt import parse_ms
from truyvet.domain import localtime
from truyvet.report.labels import OUTCOME_ORDER


# In the order shown. Outcomes come from figures["outcomes"]; shares are percentages.
FIGURES = ("venues", "venues_scanning", "venues_inspected", "inspections", *OUTCOME_ORDER,
           "people_counted", "people_scanned", "coverage", "venue_qr_share", "exit_share",
           "silent_entrances", "gaps_flagged", "gaps_resolved", "alerts")
# the directive's three failings of how a venue scans, shown per venue in section 4: the
# poster still used, entrances not scanned, no scan on the way out
SCANNING = ("venue_qr_share", "silent_entrances", "exit_share")
PERCENTAGES = frozenset({"coverage", "venue_qr_share", "exit_share"})


@dataclass(frozen=True)
class Row:
    scope: str  # total | district | hospitality | category | venue
    district: str
    category: str
    values: dict[str, int | float | None]  # FIGURES -> number (shares in %, None if unknown)
    venue_id: str = ""
    venue_name: str = ""
    ward: str = ""
    risk: float | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    period_from: str  # local dates, inclusive (UTC+07:00)
    period_to: str
    district: str | None
    generated_at: str  # local time, minutes
    total: Row
    districts: list[Row]
    hospitality: list[Row]
    categories: list[Row]
    worst: list[Row]
    # the F1 of the standing cases by follow-up status (the API's ``followups``), or None
    followups: dict[str, Any] | None = None
    # what the registry assumes for venues imported from the province's list (the API's
    # ``registry``), or None
    registry: dict[str, Any] | None = None

    def rows(self) -> list[Row]:
        return [self.total, *self.districts, *self.hospitality, *self.categories, *self.worst]


def values(figures: dict[str, Any]) -> dict[str, int | float | None]:
    out: dict[str, int | float | None] = {}
    for key in FIGURES:
        if key in OUTCOME_ORDER:
            out[key] = int(figures.get("outcomes", {}).get(key, 0))
        elif key in PERCENTAGES:
            share = figures.get(key)
            out[key] = None if share is None else round(share * 100, 1)
        else:
            out[key] = int(figures[key])
    return out


def from_api(body: dict[str, Any]) -> Report:
    """Build the report from the API's JSON (``schemas``-shaped, see api/compliance_service)."""
    districts, hospitality, categories = [], [], []
    for d in body["districts"]:
        name = d["district"]
        districts.append(Row("district", name, "", values(d["figures"])))
        hospitality.append(Row("hospitality", name, "", values(d["hospitality"])))
        for c in d["categories"]:
            categories.append(Row("category", name, c["category"], values(c["figures"])))
    worst = [
        Row("venue", w["venue"].get("district", ""), w["venue"].get("category", ""),
            values(w["figures"]), venue_id=w["venue"]["venue_id"],
            venue_name=w["venue"].get("name", ""), ward=w["venue"].get("ward", ""),
            risk=w["risk"], reasons=tuple(w["reasons"]))
        for w in body["worst_venues"]
    ]
    return Report(
        period_from=_local(body["from"]).strftime("%d/%m/%Y"),
        period_to=(_local(body["to"]) - timedelta(milliseconds=1)).strftime("%d/%m/%Y"),
        district=body.get("district"),
        generated_at=_local(body["generated_at"]).strftime("%H:%M %d/%m/%Y"),
        total=Row("total", "", "", values(body["total"])),
        districts=districts, hospitality=hospitality, categories=categories, worst=worst,
        followups=body.get("followups"), registry=body.get("registry"),
    )


def _local(rfc3339: str) -> datetime:
    return datetime.fromtimestamp(parse_ms(rfc3339) / 1000, localtime.TZ).replace(tzinfo=None)


def number(x: int | float | None, lang: str) -> str:
    """A figure as people read it: Vietnamese 12.345 and 85,3; English 12,345 and 85.3."""
    if x is None:
        return "–"
    text = f"{x:,}" if isinstance(x, int) else f"{x:,.1f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
