"""The venue registry as every process sees it: the compacted venues topic, followed.

Only what matching needs lives here for now (each venue's category, for per-category dwell);
records that are not valid JSON objects with a category are counted and ignored.
"""

from __future__ import annotations

import logging

from confluent_kafka import Message

from truyvet import topics
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.fields import load_json
from truyvet.kafka.follower import TopicFollower
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class VenueRegistry:
    def __init__(self, s: Settings) -> None:
        self.categories: dict[str, str] = {}
        self.invalid = 0
        self._follower = TopicFollower(s, topics.venues(s), self._on_batch, "registry")

    def start(self, timeout: float = 120.0) -> VenueRegistry:
        self._follower.start()
        if not self._follower.wait_caught_up(timeout):
            raise TimeoutError(f"venue registry not loaded after {timeout}s")
        log.info("venue registry: %d venues", len(self.categories))
        return self

    def stop(self) -> None:
        self._follower.stop()

    def category_of(self, venue_id: str) -> str | None:
        return self.categories.get(venue_id)

    def _on_batch(self, msgs: list[Message]) -> None:
        for m in msgs:
            key = (m.key() or b"").decode("utf-8", "replace")
            if m.value() is None:
                self.categories.pop(key, None)
                continue
            try:
                obj = load_json(m.value())
                category = obj["category"] if isinstance(obj, dict) else None
            except (InvalidEvent, KeyError):
                category = None
            if not isinstance(category, str):
                self.invalid += 1
                continue
            self.categories[key] = category
