"""The venue registry as every process sees it: the compacted venues topic, followed into a
:class:`~truyvet.domain.venues.VenueTable` (opening hours, categories, scanning points)."""

from __future__ import annotations

import logging

from truyvet import topics
from truyvet.codec.venue import Venue
from truyvet.domain.venues import OpenVenue, VenueTable
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.record import Record
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class VenueRegistry:
    def __init__(self, s: Settings, backend: Backend | None = None) -> None:
        self.table = VenueTable()
        self.follower = TopicFollower(s, topics.venues(s), self._on_batch, "registry",
                                      backend=backend)

    @property
    def venues(self) -> dict[str, Venue]:
        return self.table.venues

    def start(self, timeout: float = 120.0) -> VenueRegistry:
        self.follower.start()
        if not self.follower.wait_caught_up(timeout):
            raise TimeoutError(f"venue registry not loaded after {timeout}s")
        log.info("venue registry: %d venues", len(self.venues))
        return self

    def stop(self) -> None:
        self.follower.stop()

    def open_at(self, t_s: int) -> dict[str, OpenVenue]:
        return self.table.open_at(t_s)

    def category_of(self, venue_id: str) -> str | None:
        return self.table.category_of(venue_id)

    def _on_batch(self, batch: list[Record]) -> None:
        # a refused record raises: the follower passes over it alone, with its offset
        for r in batch:
            self.table.apply_one(r.key, r.value)
