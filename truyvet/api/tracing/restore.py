"""What a starting API process restores from Kafka: the standing itineraries (the latest per
case, within the retention) and the last result published for each (so that a rebuilt answer
equal to it keeps its revision, and a different one becomes the next revision)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec import match_result as match_result_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.itinerary import Itinerary
from truyvet.codec.match_result import MatchResult
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.record import Record
from truyvet.settings import Settings

log = logging.getLogger(__name__)


def latest_by_key(s: Settings, topic: str, backend: Backend | None = None) -> dict[bytes, bytes]:
    """The latest non-null value per key of a whole topic, read once."""
    latest: dict[bytes, bytes] = {}

    def on_batch(batch: list[Record]) -> None:
        for r in batch:
            if r.key is None:
                continue
            if r.value is None:
                latest.pop(r.key, None)
            else:
                latest[r.key] = r.value

    follower = TopicFollower(s, topic, on_batch, f"restore-{topic.rsplit('.', 2)[-2]}",
                             backend=backend)
    follower.start()
    follower.wait_caught_up()
    follower.stop()
    return latest


def standing(itineraries: dict[bytes, bytes], published: dict[bytes, bytes], cutoff_ms: int,
             ) -> Iterator[tuple[Itinerary, MatchResult | None]]:
    """Each itinerary submitted since ``cutoff_ms``, with its last published result if any,
    from the latest records of the itineraries and match-results topics (unreadable ones are
    logged and passed over: the case is answered anew)."""
    for key, raw in itineraries.items():
        try:
            it = itinerary_codec.decode(raw)
        except InvalidEvent as exc:
            log.error("itinerary record %r unreadable, not restored: %s", key[:64], exc)
            continue
        if (it.submitted_at_ms or 0) < cutoff_ms:
            continue
        last = published.get(key)
        result = None
        if last is not None:
            try:
                result = match_result_codec.decode(last)
            except InvalidEvent as exc:
                log.warning("last result of %s unreadable (%s); answering anew", it.case_id, exc)
        yield it, result
