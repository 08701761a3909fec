"""``truyvet publish FILE``: check-ins from CSV or JSON Lines to Kafka."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from truyvet.producers.files import CHECKINS, FileFormatError, Kind
from truyvet.producers.publish import PublishSummary, publish_file
from truyvet import settings as settings_mod
from truyvet.cli.options import env_option
from truyvet.settings import Settings

SHOWN_REJECTS = 20


@click.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option("--format", "TRUYVET_PUBLISH_FORMAT", "fmt", type=click.Choice(["csv", "jsonl"]),
            default=None, help="Input format; by default from the file name (.csv, .jsonl).")
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help="Print the summary as JSON (all rejected rows up to 1000).")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def command(file: Path, fmt: str | None, as_json: bool, **kwargs: object) -> None:
    """Publish the check-ins in FILE (CSV with the field names as header, or JSON Lines).

    Valid rows go to the check-in topic keyed by venue; invalid rows never stop the run: they
    are listed with their row numbers and reasons and sent to the dead-letter topic. Exit
    status 1 if the broker did not acknowledge every record (those are written to
    FILE.failed.jsonl for another try).
    """
    publish_and_report(settings_mod.from_options(kwargs), file, fmt, as_json, CHECKINS)


def publish_and_report(s: Settings, file: Path, fmt: str | None, as_json: bool, kind: Kind) -> None:
    """Publish FILE with a progress bar, print the summary, exit 1 on unacknowledged records."""
    console = Console(stderr=True)
    try:
        with Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(), console=console,
            disable=as_json or not console.is_terminal,
        ) as progress:
            task = progress.add_task(f"publishing {file.name}", total=file.stat().st_size)
            summary = publish_file(s, file, fmt, lambda done: progress.update(task, completed=done),
                                   kind=kind)
    except FileFormatError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(summary.to_mapping(), option=orjson.OPT_INDENT_2))
        sys.stdout.write("\n")
    else:
        _print_summary(Console(), summary)
    if not summary.ok:
        sys.exit(1)


def _print_summary(console: Console, summary: PublishSummary) -> None:
    rate = f"{summary.rows / summary.seconds:,.0f} rows/s" if summary.seconds else ""
    console.print(f"[bold]{summary.path}[/]: {summary.rows:,} rows in {summary.seconds:.2f}s {rate}")
    console.print(f"  sent {summary.sent:,}, acknowledged {summary.delivered:,}")
    if summary.rejected:
        console.print(f"  rejected {summary.rejected_total:,} (sent to the dead-letter topic):")
        for reason, n in summary.rejected.most_common():
            console.print(f"    {reason:<24} {n:,}")
        table = Table("row", "reason", "detail", title="rejected rows", title_justify="left")
        for r in summary.rejected_rows[:SHOWN_REJECTS]:
            table.add_row(str(r.row), r.reason, r.detail)
        console.print(table)
        if summary.rejected_total > SHOWN_REJECTS:
            console.print(f"  ... and {summary.rejected_total - SHOWN_REJECTS:,} more (--json lists them)")
    if summary.assumed:
        venues = len({r.venue_id for r in summary.assumed_rows})
        console.print(f"  venues lacking data, assumed by default (complete them in the list): "
                      + ", ".join(f"{k} {n:,}" for k, n in summary.assumed.most_common()))
        table = Table("row", "venue_id", "name", "district", "assumed",
                      title="venues with assumed data", title_justify="left")
        for r in summary.assumed_rows[:SHOWN_REJECTS]:
            table.add_row(str(r.row), r.venue_id, r.name, r.district, ", ".join(r.fields))
        console.print(table)
        if venues > SHOWN_REJECTS:
            console.print(f"  ... and more (--json lists up to {len(summary.assumed_rows):,})")
    if summary.repeated:
        console.print(f"  {len(summary.repeated):,} rows repeat an earlier row's venue (the later "
                      f"replaces it): " + ", ".join(f"row {r} = row {first}" for r, first in
                                                     list(summary.repeated.items())[:10]))
    if summary.failed:
        console.print(f"[red]  {summary.failed:,} records were not acknowledged by the broker: "
                      f"{dict(summary.failure_errors)}; payloads in {summary.failed_path}[/]")
