"""``truyvet dlq show``, ``replay`` and ``resume``: what was refused and why; re-publishing it
corrected; resuming a job the dead-letter guard paused."""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path

import click
import orjson

from truyvet import settings as settings_mod
from truyvet import topics
from truyvet.cli.options import env_option
from truyvet.codec import control as control_codec
from truyvet.codec import deadletter as deadletter_codec
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import InvalidEvent
from truyvet.kafka.follower import read_topic
from truyvet.settings import Settings


def read_dead_letters(s: Settings, limit: int) -> list[DeadLetter]:
    """The first ``limit`` dead letters, from the beginning of the topic (no group, no commit)."""
    out: list[DeadLetter] = []
    for r in read_topic(s, topics.deadletter(s)):
        out.append(DeadLetter.from_record(r.value, r.key, r.headers))
        if len(out) >= limit:
            break
    return out


@click.group("dlq")
def command() -> None:
    """The dead-letter topic: refused inputs with their reasons."""


@command.command("show")
@env_option("--limit", "TRUYVET_DLQ_LIMIT", default=50, type=int, help="At most this many.")
@env_option("--reason", "TRUYVET_DLQ_REASON", default=None, help="Only this reason.")
@env_option("--stage", "TRUYVET_DLQ_STAGE", default=None, help="Only this stage (ingest, ...).")
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help="JSON Lines of dead-letter envelopes (schemas/deadletter.v1).")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def show(limit: int, reason: str | None, stage: str | None, as_json: bool,
         **kwargs: object) -> None:
    """List dead letters: reason, where they came from, and the payload. With --json, the
    output is what `truyvet dlq replay` reads back once corrected."""
    letters = read_dead_letters(settings_mod.from_options(kwargs), 1_000_000 if (reason or stage)
                                else limit)
    letters = [d for d in letters if (reason is None or d.reason == reason)
               and (stage is None or d.stage == stage)][:limit]
    for letter in letters:
        m = letter.to_mapping()
        if as_json:
            sys.stdout.buffer.write(orjson.dumps(m) + b"\n")
            continue
        src = ", ".join(f"{k}={v}" for k, v in m["source"].items())
        text = m["payload_text"] if m["payload_text"] is not None else f"base64:{m['payload_base64']}"
        click.echo(f"{m['failed_at']}  {m['stage']:<8} {m['reason']:<24} {src}\n"
                   f"    {m['detail']}\n    {text[:200]}")


# dead letters go back only to the topics that take outside input
REPLAYABLE = ("checkins", "heartbeats", "headcounts", "venues")


@command.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option("--dry-run", "TRUYVET_DLQ_DRY_RUN", is_flag=True, default=False,
            help="Say what would be re-published, publish nothing.")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def replay(file: Path, dry_run: bool, **kwargs: object) -> None:
    """Re-publish corrected dead letters: FILE holds JSON Lines as `truyvet dlq show --json`
    writes them, with `payload_text` (or `payload_base64`) corrected. Each goes back, with its
    key, to the topic it came from (a `truyvet publish` file's rows: the check-in topic), where
    the stream jobs validate it again — still wrong, it is dead-lettered again."""
    from truyvet.kafka.producer import DurableProducer

    s = settings_mod.from_options(kwargs)
    allowed = {getattr(topics, name)(s): name for name in REPLAYABLE}
    plan: list[tuple[int, str, bytes | None, bytes]] = []
    problems: list[str] = []
    for n, line in enumerate(file.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            letter = deadletter_codec.decode(line)
        except InvalidEvent as exc:
            problems.append(f"line {n}: {exc}")
            continue
        topic = letter.source_topic or (topics.checkins(s) if letter.source_file else None)
        if topic not in allowed:
            problems.append(f"line {n}: source topic {topic!r} does not take replays "
                            f"({', '.join(REPLAYABLE)})")
            continue
        plan.append((n, topic, letter.key, letter.payload))
    for p in problems:
        click.echo(p, err=True)
    if dry_run:
        for n, topic, key, payload in plan:
            click.echo(f"line {n}: -> {topic} key={key!r} {payload[:120]!r}")
        click.echo(f"{len(plan)} would be re-published, {len(problems)} refused", err=True)
        return
    producer = DurableProducer(s, "truyvet-dlq-replay")
    for _, topic, key, payload in plan:
        producer.send(topic, key, payload)
    producer.flush()
    failed = producer.stats.failed
    click.echo(f"{len(plan) - failed} re-published, {failed} not acknowledged, "
               f"{len(problems)} refused", err=True)
    if failed or problems:
        raise SystemExit(1)


@command.command("resume")
@click.argument("job", type=click.Choice(control_codec.JOBS))
@env_option("--by", "TRUYVET_OPERATOR", default=lambda: getpass.getuser(),
            show_default="the user's name", help="Who resumes it (in the workers' log).")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def resume(job: str, by: str, **kwargs: object) -> None:
    """Resume JOB, which the dead-letter guard paused in every worker that runs it (read
    `truyvet dlq show` first): the inputs that tripped it are dead-lettered once and it goes
    on. Sent through the control topic, so every worker hears it; it applies to pauses that
    began before now."""
    from truyvet.kafka.producer import DurableProducer

    s = settings_mod.from_options(kwargs)
    c = control_codec.Command("resume", job, int(time.time() * 1000), by[:128] or "-")
    producer = DurableProducer(s, "truyvet-dlq-resume")
    producer.send(topics.control(s), control_codec.key(c), control_codec.encode(c))
    producer.flush()
    if producer.stats.failed:
        raise click.ClickException("the resume command was not acknowledged by Kafka")
    click.echo(f"resume {job}: sent to the workers ({topics.control(s)})")
