"""What an API process holds of venue compliance: the compliance job's records, the alerts,
the inspections and the campaigns, each followed from its topic (and the venue registry).

Followers (threads) apply records under ``lock``; readers hold it too. A record a codec refuses
is passed over alone, counted and logged by its follower (``truyvet.kafka.follower``): another
writer's bad record must not stop a view.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from truyvet import topics
from truyvet.codec import alert as alert_codec
from truyvet.codec import campaign as campaign_codec
from truyvet.codec import compliance as compliance_codec
from truyvet.codec import inspection as inspection_codec
from truyvet.codec.alert import Alert
from truyvet.codec.campaign import Campaign
from truyvet.codec.compliance import HourFigures
from truyvet.codec.inspection import Inspection
from truyvet.domain.compliance.figures import VenueRecords
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.record import Record
from truyvet.kafka.registry import VenueRegistry
from truyvet.settings import Settings



class ComplianceViews:
    def __init__(self, s: Settings, backend: Backend | None = None) -> None:
        self.lock = threading.Lock()
        self.registry = VenueRegistry(s, backend)
        self.records: dict[str, VenueRecords] = defaultdict(VenueRecords)
        self.observed_from_h: int | None = None  # the first hour with any record
        self.observed_to_h: int | None = None  # the newest hour with any record
        self.alerts: dict[str, Alert] = {}
        self.inspections: dict[str, Inspection] = {}
        self.campaigns: dict[str, Campaign] = {}
        follow = [(topics.compliance(s), self._compliance, "api-compliance"),
                  (topics.alerts(s), self._alert, "api-alerts"),
                  (topics.inspections(s), self._inspection, "api-inspections"),
                  (topics.campaigns(s), self._campaign, "api-campaigns")]
        self.followers = [TopicFollower(s, topic, self._applier(apply), name, backend=backend)
                          for topic, apply, name in follow]

    def start(self) -> None:
        self.registry.start()
        for f in self.followers:
            f.start()
        for f in self.followers:
            f.wait_caught_up()

    def stop(self) -> None:
        self.registry.stop()
        for f in self.followers:
            f.stop()

    def expire(self, cutoff_s: int) -> int:
        """Forget what is past the retention, as the topics do: the compliance records (gap
        records name the case) and the alerts raised before ``cutoff_s``. Inspections (kept a
        year as evidence) and campaigns stay. Returns how many records were forgotten."""
        with self.lock:
            gone = sum(r.expire(cutoff_s) for r in self.records.values())
            for venue in [v for v, r in self.records.items() if r.empty]:
                del self.records[venue]
            old = [k for k, a in self.alerts.items() if a.raised_at_ms // 1000 < cutoff_s]
            for k in old:
                del self.alerts[k]
            if self.observed_from_h is not None and self.observed_from_h * 3600 < cutoff_s:
                self.observed_from_h = -(-cutoff_s // 3600)
            return gone + len(old)

    def _applier(self, apply: Callable[[bytes], None]) -> Callable[[list[Record]], None]:
        def on_batch(batch: list[Record]) -> None:  # a follower's thread
            with self.lock:
                for r in batch:
                    if r.value is not None:  # nothing here deletes: records are replaced, or expire
                        apply(r.value)
        return on_batch

    # --- applying one record (under the lock) -------------------------------------------------
    def _compliance(self, value: bytes) -> None:
        record = compliance_codec.decode(value)
        self.records[record.venue_id].apply(record)
        if isinstance(record, HourFigures):
            hour = record.hour
            if self.observed_from_h is None or hour < self.observed_from_h:
                self.observed_from_h = hour
            if self.observed_to_h is None or hour > self.observed_to_h:
                self.observed_to_h = hour

    def _alert(self, value: bytes) -> None:
        a = alert_codec.decode(value)
        self.alerts[a.alert_id] = a

    def _inspection(self, value: bytes) -> None:
        i = inspection_codec.decode(value)
        self.inspections[i.inspection_id or ""] = i

    def _campaign(self, value: bytes) -> None:
        c = campaign_codec.decode(value)
        self.campaigns[c.campaign_id] = c


def inspection_json(i: Inspection) -> dict[str, Any]:
    """An inspection as the API shows it: the record, and when it was made (the start of the
    observation)."""
    out = inspection_codec.to_mapping(i)
    out["inspected_at"] = out["observed_from"]
    return out
