"""``truyvet report``: the inspection report to the Department of Information and
Communications, as CSV, printable HTML or PDF, from the API's ``/api/v1/report``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import orjson

from truyvet import api_client
from truyvet import settings as settings_mod
from truyvet.cli.options import env_option
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.timefmt import format_ms, parse_ms
from truyvet.domain import localtime
from truyvet.report.document import FORMATS, file_name, render
from truyvet.report.labels import LANGS

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DAY_MS = 86_400_000


def instant(text: str, end: bool) -> str:
    """A local date (UTC+07:00; ``--to`` includes its day) or an RFC 3339 instant."""
    try:
        if _DATE.fullmatch(text):
            ms = localtime.date_start_ms(text)
            return format_ms(ms + DAY_MS if end else ms)
        return format_ms(parse_ms(text, "to" if end else "from"))
    except InvalidEvent as exc:
        raise click.BadParameter(f"{exc.detail}; use a date like 2021-12-06 or RFC 3339",
                                 param_hint="--to" if end else "--from") from None


@click.command("report")
@env_option("--from", "TRUYVET_REPORT_FROM", "frm", required=True, metavar="DATE",
              help="First day (YYYY-MM-DD, Vietnam time) or an RFC 3339 instant.")
@env_option("--to", "TRUYVET_REPORT_TO", "to", required=True, metavar="DATE",
              help="Last day, included (YYYY-MM-DD), or an RFC 3339 instant (excluded).")
@env_option("--district", "TRUYVET_REPORT_DISTRICT", default=None,
            help="One district, with or without diacritics ('Thành phố Huế', 'thanh pho hue'); "
                 "default: the whole province.")
@env_option("--format", "TRUYVET_REPORT_FORMAT", "fmt", type=click.Choice(FORMATS),
            default="html", help="csv (one table, UTF-8), html (printable A4) or pdf.")
@env_option("--lang", "TRUYVET_REPORT_LANG", type=click.Choice(LANGS), default="vi",
            help="Vietnamese (default) or English.")
@env_option("--output", "TRUYVET_REPORT_OUTPUT", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write ('-' for stdout); default bao-cao-FROM-TO[-district].FORMAT.")
@env_option("--input", "TRUYVET_REPORT_INPUT", "input_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), default=None,
              help="Render a saved /api/v1/report JSON instead of asking the API.")
@settings_mod.options("api_url", "api_port", "api_token", "data_dir")
def command(frm: str, to: str, district: str | None, fmt: str, lang: str,
            output: Path | None, input_file: Path | None, **kwargs: object) -> None:
    """Write the report a district sends to the provincial Department of Information and
    Communications (directive 11731/UBND-CN): per district and category, venues registered,
    scanning and inspected, inspection outcomes, coverage, gaps flagged and resolved, alerts,
    and the venues to correct with reasons. The numbers are the API's."""
    lo, hi = instant(frm, end=False), instant(to, end=True)
    if parse_ms(lo) >= parse_ms(hi):
        raise click.BadParameter("--from must be before --to", param_hint="--from")
    if input_file is not None:
        body = orjson.loads(input_file.read_bytes())
    else:
        s = settings_mod.from_options(kwargs)
        query = {"from": lo, "to": hi, **({"district": district} if district else {})}
        try:
            status, body = api_client.call(s.api_url, s.token(), "GET", "/api/v1/report",
                                           query=query, timeout=120)
        except OSError as exc:
            raise click.ClickException(f"the API at {s.api_url} is unreachable: {exc}") from None
        if status >= 400:
            raise click.ClickException(api_client.refusal(status, body))
    try:
        data = render(body, fmt, lang)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        return
    if output is None:
        output = Path(file_name(frm[:10], to[:10], district, fmt))
    output.write_bytes(data)
    click.echo(f"{output} ({len(data):,} bytes, {fmt}, {lang})", err=True)
