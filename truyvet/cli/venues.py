"""``truyvet venues load FILE``: the venue registry from CSV or JSON Lines;
``truyvet venues import FILE``: from the province's list of venues, assuming what it lacks."""

from __future__ import annotations

from pathlib import Path

import click

from truyvet.producers.files import VENUE_LIST, VENUES
from truyvet import settings as settings_mod
from truyvet.cli.options import env_option
from truyvet.cli.publish import publish_and_report


@click.group("venues")
def command() -> None:
    """The venue registry (compacted topic, key venue_id)."""


@command.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option("--format", "TRUYVET_PUBLISH_FORMAT", "fmt", type=click.Choice(["csv", "jsonl"]),
            default=None, help="Input format; by default from the file name (.csv, .jsonl).")
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help="Print the summary as JSON.")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def load(file: Path, fmt: str | None, as_json: bool, **kwargs: object) -> None:
    """Load venues into the registry: CSV with columns venue_id, name, district, ward,
    category, opening_hours (e.g. "mon-fri 07:00-17:30; sat 08:00-12:00"), scanning_points,
    staff_count and optionally address, capacity -- or JSON Lines of schemas/venue.v1.
    A venue loaded again replaces its record. Invalid rows are listed with row numbers and
    dead-lettered; they never stop the load."""
    publish_and_report(settings_mod.from_options(kwargs), file, fmt, as_json, VENUES)


@command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option("--format", "TRUYVET_PUBLISH_FORMAT", "fmt", type=click.Choice(["csv", "jsonl"]),
            default=None, help="Input format; by default from the file name (.csv, .jsonl).")
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help="Print the summary as JSON (rejected rows and venues with assumed data, up "
                 "to 1000 each).")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def import_list(file: Path, fmt: str | None, as_json: bool, **kwargs: object) -> None:
    """Import the province's list of venues: CSV with columns name, address, ward, district,
    category (its code, e.g. cafe, or its name: "Quán cà phê", with or without diacritics),
    and optionally venue_id, opening_hours, scanning_points, staff_count, capacity. What a row
    does not give is assumed -- opening hours by category, one scanning point, one member of
    staff -- and the record says so ("assumed"); the summary lists those venues, and the
    report counts them. A row without venue_id gets one made from its district, ward, name and
    address, the same on every import. Invalid rows are listed with row numbers and
    dead-lettered; they never stop the import."""
    publish_and_report(settings_mod.from_options(kwargs), file, fmt, as_json, VENUE_LIST)
