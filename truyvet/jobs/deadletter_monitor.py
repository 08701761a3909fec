"""The dead-letter monitor agent (faust): counts ``deadletter.v1`` by stage and reason.

Dead letters come from every stage, including ``truyvet publish`` outside the workers; this
agent gives operators one view of them (``truyvet_deadletters_seen_total``) and logs each with
its reason and source. Low volume by nature, so a faust agent suits it (the check-in path's
jobs do not: see :mod:`truyvet.jobs.runtime`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import faust

from truyvet import metrics, topics
from truyvet.codec.deadletter import DeadLetter
from truyvet.settings import Settings

log = logging.getLogger(__name__)
LOG_EVERY_S = 10.0


def register(app: faust.App, s: Settings) -> Any:
    source = app.topic(topics.deadletter(s), key_serializer="raw", value_serializer="raw",
                       allow_empty=True)

    last_logged: dict[tuple[str, str], float] = {}
    held: Counter[tuple[str, str]] = Counter()

    @app.agent(source, name=f"{s.topic_prefix}-deadletter-monitor")
    async def monitor(stream: faust.StreamT) -> None:
        async for event in stream.events():
            m = event.message
            letter = DeadLetter.from_record(m.value, m.key, list(m.headers or ()))
            kind = (letter.stage, letter.reason)
            metrics.DEADLETTERS_SEEN.labels(*kind).inc()
            now = time.monotonic()
            if now - last_logged.get(kind, -LOG_EVERY_S) < LOG_EVERY_S:
                held[kind] += 1  # a flood of one kind is one log line every LOG_EVERY_S
                continue
            last_logged[kind] = now
            where = (f"{letter.source_topic}[{letter.source_partition}]@{letter.source_offset}"
                     if letter.source_topic else f"{letter.source_file}:{letter.source_row}")
            more = f" (and {held.pop(kind)} more of this kind)" if held.get(kind) else ""
            log.warning("dead letter from %s (%s): %s: %s%s", letter.stage, where, letter.reason,
                        letter.detail[:200], more)

    return monitor
