"""The venue registry as every process sees it: the compacted venues topic, followed.

Records that do not pass the venue codec are counted and ignored (``truyvet venues load``
refuses them before they get there; this guards against other writers).
"""

from __future__ import annotations

import logging

from confluent_kafka import Message

from truyvet import topics
from truyvet.codec import venue as venue_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.venue import Venue
from truyvet.kafka.follower import TopicFollower
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class VenueRegistry:
    def __init__(self, s: Settings) -> None:
        self.venues: dict[str, Venue] = {}
        self.invalid = 0
        self.follower = TopicFollower(s, topics.venues(s), self._on_batch, "registry")

    def start(self, timeout: float = 120.0) -> VenueRegistry:
        self.follower.start()
        if not self.follower.wait_caught_up(timeout):
            raise TimeoutError(f"venue registry not loaded after {timeout}s")
        log.info("venue registry: %d venues", len(self.venues))
        return self

    def stop(self) -> None:
        self.follower.stop()

    def open_at(self, now_s: int) -> dict[str, venue_codec.OpenVenue]:
        """Venues open at ``now_s`` (local time UTC+07:00) -> their registered scanning points
        and since when they have been open."""
        local = now_s + 7 * 3600
        weekday = (local // 86_400 + 3) % 7  # 1970-01-01 was a Thursday
        minute = local % 86_400 // 60
        out = {}
        for vid, v in list(self.venues.items()):
            minutes = venue_codec.open_for(v, weekday, minute)
            if minutes is not None:
                out[vid] = venue_codec.OpenVenue(v.scanning_points,
                                                 now_s - now_s % 60 - minutes * 60)
        return out

    def category_of(self, venue_id: str) -> str | None:
        v = self.venues.get(venue_id)
        return v.category if v is not None else None

    def _on_batch(self, msgs: list[Message]) -> None:
        for m in msgs:
            key = (m.key() or b"").decode("utf-8", "replace")
            if m.value() is None:
                self.venues.pop(key, None)
                continue
            try:
                self.venues[key] = venue_codec.decode(m.value())
            except InvalidEvent as exc:
                self.invalid += 1
                log.warning("venue record %s refused: %s", key[:64], exc)
