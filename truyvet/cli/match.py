"""``truyvet match FILE.json``: submit an itinerary to the tracer API and show the answer."""

from __future__ import annotations

import sys
import urllib.parse
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from truyvet import api_client
from truyvet import settings as settings_mod
from truyvet.cli.options import env_option
from truyvet.codec.timefmt import parse_ms
from truyvet.domain import localtime


@click.command("match")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help="Print the whole result as JSON, every contact of every stop "
                 "(schemas/match-result.v1).")
@env_option("--csv", "TRUYVET_MATCH_CSV", "csv_out",
            type=click.Path(dir_okay=False, path_type=Path), default=None,
            help="Also write the case's F1 list (its close contacts over every stop, each "
                 "card once) to this CSV file, UTF-8 with a BOM for spreadsheets; '-' for "
                 "standard output (then the table is not printed).")
@env_option("--lang", "TRUYVET_MATCH_LANG", type=click.Choice(["vi", "en"]), default="vi",
            help="The CSV's headers.")
@env_option("--case-id", "TRUYVET_MATCH_CASE_ID", default=None,
            help="Submit FILE's itinerary as this case instead of the one it names: a case of "
                 "your own (the simulator's itineraries in DATA_DIR/itineraries are its cases, "
                 "which only it may replace).")
@settings_mod.options("api_url", "api_port", "api_token", "data_dir")
def command(file: Path, as_json: bool, csv_out: Path | None, lang: str, case_id: str | None,
            **kwargs: object) -> None:
    """Submit the itinerary in FILE (schemas/itinerary.v1) and print, per stop, whether a scan
    backs it (else a gap), its contacts and close contacts, and the closest. Times shown in
    UTC+07:00."""
    s = settings_mod.from_options(kwargs)
    path = "/api/v1/itineraries?contacts=all" if as_json else "/api/v1/itineraries"
    status, body = api_client.call(s.api_url, s.token(), "POST", path,
                                   _itinerary(file, case_id))
    if status >= 400:
        raise click.ClickException(api_client.refusal(status, body))
    if csv_out is not None:
        case = urllib.parse.quote(body["case_id"], safe="")
        status, raw = api_client.call_raw(s.api_url, s.token(), "GET",
                                          f"/api/v1/itineraries/{case}/f1",
                                          query={"format": "csv", "lang": lang})
        if status >= 400:
            raise click.ClickException(f"{status}: {raw[:300].decode(errors='replace')}")
        if str(csv_out) == "-":
            sys.stdout.buffer.write(raw)
            return
        csv_out.write_bytes(raw)
        cards = raw.count(b"\n") - 1  # a header, then a line per card
        click.echo(f"{csv_out}: F1 list of {body['case_id']} ({cards} cards)", err=True)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
        return
    print_result(Console(), body)


def _itinerary(file: Path, case_id: str | None) -> bytes:
    """FILE's bytes as they are (the API judges them), or as the case ``case_id``."""
    raw = file.read_bytes()
    if case_id is None:
        return raw
    try:
        it = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"{file}: not JSON ({exc})") from None
    if not isinstance(it, dict):
        raise click.ClickException(f"{file}: not an itinerary (a JSON object)")
    return orjson.dumps({**it, "case_id": case_id})


def print_result(console: Console, res: dict[str, Any]) -> None:
    """The API's default answer (its counts and close contacts per stop) as a table."""
    card = res.get("card_id") or "unknown card"
    console.print(f"[bold]{res['case_id']}[/] ({res.get('classification')}, {card}), "
                  f"revision {res.get('revision')}")
    table = Table("#", "venue", "from", "to", "scan", "contacts (close)", "top contacts")
    local = lambda t: localtime.format_local(parse_ms(t))[:16].replace("T", " ")  # noqa: E731
    for i, stop in enumerate(res["stops"], 1):
        counts = stop["counts"]
        scan = {True: "[green]verified[/]", False: "[red]GAP[/]", None: "-"}[stop["verified"]]
        top = ", ".join(f"{c['card_id']} {c['overlap_s'] // 60}m" for c in stop["contacts"][:3])
        table.add_row(str(i), stop["venue_id"], local(stop["from"]), local(stop["to"])[11:],
                      scan, f"{counts['contacts']} ({counts['close_contacts']})", top)
    console.print(table)
