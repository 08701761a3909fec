"""``truyvet dlq show``: what was refused, and why."""

from __future__ import annotations

import sys

import click
import orjson
from confluent_kafka import Consumer, KafkaError, TopicPartition

from truyvet import settings as settings_mod
from truyvet import topics
from truyvet.cli.options import env_option
from truyvet.codec.deadletter import DeadLetter
from truyvet.settings import Settings


def read_dead_letters(s: Settings, limit: int, timeout: float = 10.0) -> list[DeadLetter]:
    """The first ``limit`` dead letters, from the beginning of the topic (no group, no commit)."""
    consumer = Consumer({"bootstrap.servers": s.bootstrap_servers, "group.id": "unused",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    topic = topics.deadletter(s)
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics[topic]
        parts = []
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
            if high > low:
                parts.append(TopicPartition(topic, p, low))
        consumer.assign(parts)
        remaining = len(parts)
        out: list[DeadLetter] = []
        while remaining and len(out) < limit:
            msg = consumer.poll(timeout)
            if msg is None:
                break
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    remaining -= 1
                    continue
                raise click.ClickException(str(msg.error()))
            out.append(DeadLetter.from_record(msg.value(), msg.key(), msg.headers()))
        return out
    finally:
        consumer.close()


@click.group("dlq")
def command() -> None:
    """The dead-letter topic: refused inputs with their reasons."""


@command.command("show")
@env_option("--limit", "TRUYVET_DLQ_LIMIT", default=50, type=int, help="At most this many.")
@env_option("--json", "TRUYVET_JSON", "as_json", is_flag=True, default=False,
            help="JSON Lines of dead-letter envelopes (schemas/deadletter.v1).")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix")
def show(limit: int, as_json: bool, **kwargs: object) -> None:
    """List dead letters: reason, where they came from, and the payload."""
    letters = read_dead_letters(settings_mod.from_options(kwargs), limit)
    for letter in letters:
        m = letter.to_mapping()
        if as_json:
            sys.stdout.buffer.write(orjson.dumps(m) + b"\n")
            continue
        src = ", ".join(f"{k}={v}" for k, v in m["source"].items())
        text = m["payload_text"] if m["payload_text"] is not None else f"base64:{m['payload_base64']}"
        click.echo(f"{m['failed_at']}  {m['stage']:<8} {m['reason']:<24} {src}\n"
                   f"    {m['detail']}\n    {text[:200]}")
