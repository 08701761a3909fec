"""Control command v1 (schemas/control.v1.schema.json): what an operator tells the stream
workers, through Kafka so that every worker of a deployment hears it wherever it runs. Today one
command: ``resume`` a job the dead-letter guard paused (``truyvet dlq resume JOB``). Topic
``<prefix>.control.v1``, key = the job, kept a day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from truyvet.codec import json_codec
from truyvet.codec.fields import check_keys, check_version, choice, require_object, text, timestamp_ms
from truyvet.codec.timefmt import format_ms

VERSION = 1
COMMANDS = ("resume",)
JOBS = ("ingest", "visits", "compliance")
_REQUIRED = frozenset({"command", "job", "at", "by"})
_ALLOWED = _REQUIRED | {"v"}


@dataclass(frozen=True, slots=True)
class Command:
    command: str  # resume
    job: str  # ingest | visits | compliance
    at_ms: int  # when it was given: it applies to a pause that began before
    by: str  # who gave it (the operator's name, for the log)


def from_mapping(obj: Any) -> Command:
    obj = require_object(obj, "control command")
    check_keys(obj, _REQUIRED, _ALLOWED, "control command")
    check_version(obj, VERSION, "control command")
    return Command(choice(obj, "command", frozenset(COMMANDS)), choice(obj, "job", frozenset(JOBS)),
                   timestamp_ms(obj, "at"), text(obj, "by", 128, minimum=1))


def to_mapping(c: Command) -> dict[str, Any]:
    return {"v": VERSION, "command": c.command, "job": c.job, "at": format_ms(c.at_ms),
            "by": c.by}


def key(c: Command) -> bytes:
    return c.job.encode()


CODEC = json_codec("control.v1", to_mapping, from_mapping, key)
encode, decode = CODEC.encode, CODEC.decode
