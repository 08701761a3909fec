"""The report as a self-contained HTML page, printable on A4 (landscape; the tables are
wide). No external resources: fonts are the system's (Noto Sans or DejaVu Sans carry
Vietnamese). Every figure cell names its figure (``data-figure``) and every row its scope, so
the numbers can be checked against the API's."""

from __future__ import annotations

from html import escape
from typing import Any

from truyvet.report.labels import CATEGORIES, COLUMNS, FOLLOWUP_STATUSES, REASONS, TEXT
from truyvet.report.table import FIGURES, SCANNING, Report, Row, number

STYLE = """
@page { size: A4 landscape; margin: 12mm 10mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9pt;
       color: #111; margin: 0; }
header { display: flex; justify-content: space-between; text-align: center; }
header div { font-weight: bold; }
header .motto span { display: block; font-weight: normal; text-decoration: underline; }
h1 { text-align: center; font-size: 14pt; margin: 10pt 0 2pt; }
h1 + p { text-align: center; font-weight: bold; margin: 0 0 8pt; }
h2 { font-size: 11pt; margin: 12pt 0 4pt; break-after: avoid; }
p { margin: 2pt 0; }
table { border-collapse: collapse; width: 100%; break-inside: auto; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.5pt solid #555; padding: 2pt 3pt; vertical-align: top; }
th { background: #eee; font-weight: bold; font-size: 8pt; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sum td { font-weight: bold; background: #f6f6f6; }
footer { margin-top: 10pt; font-size: 8pt; color: #444; }
@media screen { body { max-width: 297mm; margin: 12mm auto; } }
"""


def render(report: Report, lang: str) -> bytes:
    t = TEXT[lang]
    area = report.district or t["province"]
    authority = (t["authority_district"].format(district=report.district.upper())
                 if report.district else t["authority"])
    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{escape(t['title'])} {escape(area)} {report.period_from}–{report.period_to}"
        f"</title><style>{STYLE}</style></head><body>",
        f"<header><div>{escape(authority)}</div>"
        f"<div class=motto>{escape(t['motto_1'])}<span>{escape(t['motto_2'])}</span></div>"
        "</header>",
        f"<h1>{escape(t['title'])}</h1><p>{escape(t['subtitle'])}</p>",
        f"<p><b>{escape(t['recipient'])}</b></p><p>{escape(t['basis'])}</p>",
        f"<p>{escape(t['period'].format(**{'from': report.period_from, 'to': report.period_to}))}"
        f"</p><p>{escape(t['area'].format(area=area))}</p>",
        f"<h2>{escape(t['s_total'])}</h2>",
        _table(lang, [t["district"]], [*report.districts, report.total],
               lambda r: [r.district or t["total"]]),
        f"<h2>{escape(t['s_hospitality'])}</h2>",
        _table(lang, [t["district"]], report.hospitality, lambda r: [r.district]),
        f"<h2>{escape(t['s_categories'])}</h2>",
        _table(lang, [t["district"], t["category"]], report.categories,
               lambda r: [r.district, CATEGORIES[lang].get(r.category, r.category)]),
        f"<h2>{escape(t['s_worst'])}</h2>",
        _worst(lang, report.worst) if report.worst else f"<p>{escape(t['none'])}</p>",
        *(_followups(lang, report.followups) if report.followups else ()),
        *(_registry(lang, report.registry) if report.registry and report.registry["incomplete"]
          else ()),
        f"<footer><p>{escape(t['definitions'])}</p>"
        f"<p>{escape(t['generated'].format(at=report.generated_at))}</p></footer>",
        "</body></html>",
    ]
    return "\n".join(parts).encode()


def _table(lang: str, heads: list[str], rows: list[Row], labels) -> str:  # type: ignore[no-untyped-def]
    cols = COLUMNS[lang]
    out = ["<table><thead><tr>", *(f"<th>{escape(h)}</th>" for h in heads),
           *(f"<th>{escape(cols[k])}</th>" for k in FIGURES), "</tr></thead><tbody>"]
    for r in rows:
        cls = ' class="sum"' if r.scope == "total" else ""
        out.append(f'<tr{cls} data-scope="{r.scope}" data-district="{escape(r.district)}" '
                   f'data-category="{escape(r.category)}">')
        out += [f"<td>{escape(x)}</td>" for x in labels(r)]
        out += [_cell(r, k, lang) for k in FIGURES]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _worst(lang: str, rows: list[Row]) -> str:
    t, cols = TEXT[lang], COLUMNS[lang]
    shown = ("coverage", *SCANNING, "gaps_flagged", "alerts", "venues_inspected")
    out = ["<table><thead><tr>",
           *(f"<th>{escape(h)}</th>" for h in (t["venue_id"], t["venue"], t["district"],
                                                t["ward"], t["category"])),
           *(f"<th>{escape(cols[k])}</th>" for k in shown),
           f"<th>{escape(t['risk'])}</th><th>{escape(t['reasons'])}</th></tr></thead><tbody>"]
    for r in rows:
        out.append(f'<tr data-scope="venue" data-venue="{escape(r.venue_id)}">')
        out += [f"<td>{escape(x)}</td>" for x in (
            r.venue_id, r.venue_name, r.district, r.ward, CATEGORIES[lang].get(r.category, ""))]
        out += [_cell(r, k, lang) for k in shown]
        out.append(f'<td class=n data-figure="risk">{number(r.risk, lang)}</td>')
        out.append("<td>" + "; ".join(escape(REASONS[lang].get(x, x)) for x in r.reasons)
                   + "</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _followups(lang: str, f: dict[str, Any]) -> list[str]:
    t, words = TEXT[lang], FOLLOWUP_STATUSES[lang]
    rows = "".join(f'<tr data-followup="{k}"><td>{escape(words.get(k, k))}</td>'
                   f'<td class=n data-followup-count="{k}">{number(int(n), lang)}</td></tr>'
                   for k, n in f["statuses"].items())
    return [f"<h2>{escape(t['s_followups'])}</h2>",
            "<p>" + escape(t["followup_of"].format(cases=number(int(f["cases"]), lang),
                                                   contacts=number(int(f["contacts"]), lang)))
            + "</p>",
            f"<table><thead><tr><th>{escape(t['followup_status'])}</th>"
            f"<th>{escape(t['followup_people'])}</th></tr></thead><tbody>{rows}</tbody></table>"]


def _registry(lang: str, reg: dict[str, Any]) -> list[str]:
    """The venues whose registry records assume what the province's list did not give."""
    t = TEXT[lang]
    fields = "".join(f'<tr data-assumed="{k}"><td>{escape(t["assumed_" + k])}</td>'
                     f'<td class=n data-assumed-count="{k}">{number(int(n), lang)}</td></tr>'
                     for k, n in reg["assumed"].items())
    listed = reg["incomplete_venues"]
    rows = "".join(
        f'<tr data-incomplete="{escape(v["venue_id"])}"><td>{escape(v["venue_id"])}</td>'
        f'<td>{escape(v.get("name", ""))}</td><td>{escape(v.get("district", ""))}</td>'
        f'<td>{escape(v.get("ward", ""))}</td>'
        f'<td>{escape(", ".join(t["assumed_" + k] for k in v["assumed"]))}</td></tr>'
        for v in listed)
    more = reg["incomplete"] - len(listed)
    return [f"<h2>{escape(t['s_registry'])}</h2>",
            "<p>" + escape(t["registry_of"].format(incomplete=number(int(reg["incomplete"]), lang),
                                                   venues=number(int(reg["venues"]), lang)))
            + "</p>",
            f"<table><thead><tr><th>{escape(t['assumed'])}</th>"
            f"<th>{escape(t['venue'])}</th></tr></thead><tbody>{fields}</tbody></table>",
            f"<table><thead><tr><th>{escape(t['venue_id'])}</th><th>{escape(t['venue'])}</th>"
            f"<th>{escape(t['district'])}</th><th>{escape(t['ward'])}</th>"
            f"<th>{escape(t['assumed'])}</th></tr></thead><tbody>{rows}</tbody></table>",
            *([f"<p>{escape(t['registry_more'].format(n=number(more, lang)))}</p>"] if more > 0
              else ())]


def _cell(r: Row, key: str, lang: str) -> str:
    return f'<td class=n data-figure="{key}">{number(r.values[key], lang)}</td>'
