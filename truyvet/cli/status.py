"""``truyvet status``: consumer-group lag per partition."""

from __future__ import annotations

import sys

import click
import orjson
from rich.console import Console
from rich.table import Table

from truyvet import settings as settings_mod
from truyvet.cli.options import env_option
from truyvet.kafka.lag import all_group_lags
from truyvet.settings import Settings


def lag_report(s: Settings) -> dict[str, list[dict[str, object]]]:
    return {"groups": [
        {"group": group, "partitions": [
            {"topic": p.topic, "partition": p.partition, "committed": p.committed, "end": p.end,
             "lag": p.lag} for p in parts]}
        for group, parts in all_group_lags(s).items()
    ]}


@click.command("status")
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help='Print {"groups": [{"group", "partitions": [{"topic", "partition", "committed",'
                 ' "end", "lag"}]}]}.')
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def command(as_json: bool, **kwargs: object) -> None:
    """Each truyvet consumer group's committed offset, end offset and lag, per partition."""
    report = lag_report(settings_mod.from_options(kwargs))
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        return
    console = Console()
    if not report["groups"]:
        console.print("no consumer groups yet")
    for g in report["groups"]:
        parts = g["partitions"]
        total = sum(int(p["lag"]) for p in parts)  # type: ignore[call-overload]
        table = Table("topic", "partition", "committed", "end", "lag",
                      title=f"{g['group']}  (lag {total:,})", title_justify="left")
        for p in parts:
            table.add_row(*(str(p[k]) for k in ("topic", "partition", "committed", "end", "lag")))
        console.print(table)
