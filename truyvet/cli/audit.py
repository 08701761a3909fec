"""``truyvet audit --case CASE``: who submitted a case's itinerary or read its contacts."""

from __future__ import annotations

import sys

import click
import orjson
from confluent_kafka import Consumer, TopicPartition
from rich.console import Console
from rich.table import Table

from truyvet import settings as settings_mod
from truyvet import topics
from truyvet.cli.options import env_option
from truyvet.kafka.follower import read_partition
from truyvet.settings import Settings


def read_audit(s: Settings, case_id: str | None = None,
               principal: str | None = None) -> list[dict[str, object]]:
    """Every audit record (oldest first), filtered by case and/or principal."""
    topic = topics.audit(s)
    probe = Consumer({"bootstrap.servers": s.bootstrap_servers, "group.id": "unused"})
    try:
        parts = probe.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in parts}
    finally:
        probe.close()
    out = []
    for p, end in ends.items():
        for batch in read_partition(s, topic, p, end):
            for m in batch:
                rec = orjson.loads(m.value())
                if (case_id is None or rec["case_id"] == case_id) and \
                        (principal is None or rec["principal"] == principal):
                    out.append(rec)
    return sorted(out, key=lambda r: (r["at"], r["audit_id"]))


@click.command("audit")
@env_option("--case", "TRUYVET_AUDIT_CASE", "case_id", default=None,
            help="Only this case's records.")
@env_option("--principal", "TRUYVET_AUDIT_PRINCIPAL", default=None,
            help="Only this principal's records (a token's name).")
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help="JSON Lines (schemas/audit.v1) instead of a table.")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix", "data_dir")
def command(case_id: str | None, principal: str | None, as_json: bool, **kwargs: object) -> None:
    """Who submitted an itinerary or read its contacts through the API, when, and how many
    contacts each answer held (the audit topic; the contacts themselves are not in it)."""
    if case_id is None and principal is None:
        raise click.UsageError("give --case and/or --principal")
    records = read_audit(settings_mod.from_options(kwargs), case_id, principal)
    if as_json:
        for r in records:
            sys.stdout.buffer.write(orjson.dumps(r) + b"\n")
        return
    table = Table("at (UTC)", "principal", "roles", "action", "case", "revision", "stops",
                  "contacts", "client")
    for r in records:
        table.add_row(str(r["at"]), str(r["principal"]), "+".join(r["roles"]),  # type: ignore[arg-type]
                      str(r["action"]), str(r["case_id"]), str(r["revision"]), str(r["stops"]),
                      str(r["contacts"]), str(r.get("client", "")))
    Console().print(table)
    click.echo(f"{len(records)} record(s)", err=True)
