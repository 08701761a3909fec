"""``truyvet status``: consumer-group lag per partition."""

from __future__ import annotations

import sys

import click
import orjson
from rich.console import Console
from rich.table import Table

from truyvet import settings as settings_mod
from truyvet.cli.options import env_option
from truyvet.kafka.admin import admin_client, group_lag
from truyvet.settings import Settings


def lag_report(s: Settings) -> dict[str, list[dict[str, object]]]:
    admin = admin_client(s)
    listed = admin.list_consumer_groups(request_timeout=10).result()
    groups = sorted(g.group_id for g in listed.valid if g.group_id.startswith(s.topic_prefix))
    out = []
    for group in groups:
        parts = group_lag(s, group)
        out.append({"group": group, "partitions": [
            {"topic": p.topic, "partition": p.partition, "committed": p.committed, "end": p.end,
             "lag": p.lag} for p in parts
        ]})
    return {"groups": out}


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
