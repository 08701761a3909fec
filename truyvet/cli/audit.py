"""``truyvet audit --case CASE``: who submitted a case's itinerary or read its contacts."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from truyvet import settings as settings_mod
from truyvet import topics
from truyvet.cli.options import env_option
from truyvet.codec import audit as audit_codec
from truyvet.codec.audit import AuditRecord
from truyvet.kafka.follower import read_topic
from truyvet.settings import Settings


def read_audit(s: Settings, case_id: str | None = None,
               principal: str | None = None) -> list[AuditRecord]:
    """Every audit record (oldest first), filtered by case and/or principal."""
    out = []
    for r in read_topic(s, topics.audit(s)):
        rec = audit_codec.decode(r.value or b"")
        if (case_id is None or rec.case_id == case_id) and \
                (principal is None or rec.principal == principal):
            out.append(rec)
    return sorted(out, key=lambda r: (r.at_ms, r.audit_id))


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
            sys.stdout.buffer.write(audit_codec.encode(r) + b"\n")
        return
    table = Table("at (UTC)", "principal", "roles", "action", "case", "revision", "stops",
                  "contacts", "client")
    for r in records:
        m = audit_codec.to_mapping(r)
        table.add_row(*(str(m.get(k, "")) for k in ("at", "principal")), "+".join(r.roles),
                      *(str(m.get(k, "")) for k in ("action", "case_id", "revision", "stops",
                                                     "contacts", "client")))
    Console().print(table)
    click.echo(f"{len(records)} record(s)", err=True)
