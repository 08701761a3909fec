"""The catalogue of truyvet's Kafka topics: per topic its name, partitions, key, codec,
record-timestamp policy and broker configuration (retention, compaction).

Topics are created explicitly by :func:`truyvet.kafka.admin.ensure_topics` (brokers run with
``auto.create.topics.enable=false``). Keys decide co-partitioning: every producer in truyvet
partitions with murmur2 (Java's and aiokafka's default), so equal keys land in equal partition
numbers on topics of equal partition count. Each topic's records are written and read by one
codec (``truyvet.codec``), whose schema is in ``schemas/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from truyvet.codec import (
    Codec,
    alert,
    campaign,
    card_scan,
    checkin,
    cluster,
    compliance as compliance_codec,
    control as control_codec,
    deadletter as deadletter_codec,
    followup,
    gap,
    headcount,
    heartbeat,
    inspection,
    itinerary,
    match_result,
    venue,
)
from truyvet.codec import audit as audit_codec
from truyvet.codec import visits as visits_codec
from truyvet.settings import Settings

DAY_MS = 86_400_000
MAX_RESULT_BYTES = 64 * 1024 * 1024


class Stamp(StrEnum):
    """What a topic's record timestamp is. Retention deletes by it, and the compliance job
    reads how far its inputs have come from it, so it is the event's time where there is one,
    never later than now (brokers refuse records from the future): :func:`record_time_ms`."""

    EVENT = "the event's time (the scan, the device's sending), capped at now"
    LAST_VISIT = "the end of the bucket's last visit, capped at now; a tombstone: now"
    SUBMISSION = "the itinerary's submission"
    WRITTEN = "when written"


def record_time_ms(event_ms: int, now_ms: int) -> int:
    """A record's timestamp for an event at ``event_ms``: its time, never later than now."""
    return event_ms if event_ms < now_ms else now_ms


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str  # what the record key is, for humans
    codec: Codec[Any]
    stamp: Stamp
    config: dict[str, str] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        """The schema file in schemas/."""
        return f"{self.codec.schema}.schema.json"


def checkins(s: Settings) -> str:
    """Check-in scans as published by scanners; key = venue_id."""
    return s.topic("checkins.v1")


def deadletter(s: Settings) -> str:
    """Refused inputs of every stage, original bytes + reason headers."""
    return s.topic("deadletter.v1")


def scans_by_card(s: Settings) -> str:
    """Validated check-ins re-keyed by card_id (internal repartition for per-card rules)."""
    return s.topic("scans-by-card.v1")


def heartbeats(s: Settings) -> str:
    """Scanner heartbeats; key = venue_id (co-partitioned with check-ins)."""
    return s.topic("heartbeats.v1")


def headcounts(s: Settings) -> str:
    """People counted at venues (door counters, inspectors); key = venue_id."""
    return s.topic("headcounts.v1")


def visits(s: Settings) -> str:
    """Visit buckets (venue, day, card) -> visits, compacted; partitioned by venue."""
    return s.topic("visits.v1")


def itineraries(s: Settings) -> str:
    """Submitted itineraries (audit, replay, standing re-matching); key = case_id."""
    return s.topic("itineraries.v1")


def match_results(s: Settings) -> str:
    """Every revision of every match result; key = case_id (compacted: the latest stays)."""
    return s.topic("match-results.v1")


def clusters(s: Settings) -> str:
    """Clusters of F0 cases (ổ dịch); key = cluster_id (compacted: the latest stays, a
    tombstone when one dissolves)."""
    return s.topic("clusters.v1")


def followups(s: Settings) -> str:
    """Where tracers are with each contact of a case; key = case_id/card_id (compacted)."""
    return s.topic("followups.v1")


def gaps(s: Settings) -> str:
    """Gaps flagged (open) and resolved, for venue compliance; key = venue_id."""
    return s.topic("gaps.v1")


def compliance(s: Settings) -> str:
    """Venue compliance records (hour, day, coverage, gap), compacted; key venue/kind/id."""
    return s.topic("compliance.v1")


def alerts(s: Settings) -> str:
    """Compliance alerts, compacted by alert_id; partitioned by venue."""
    return s.topic("alerts.v1")


def inspections(s: Settings) -> str:
    """Inspections recorded through the API; key = venue_id."""
    return s.topic("inspections.v1")


def campaigns(s: Settings) -> str:
    """Inspection campaigns, compacted; key = campaign_id."""
    return s.topic("campaigns.v1")


def venues(s: Settings) -> str:
    """Venue registry, compacted; key = venue_id."""
    return s.topic("venues.v1")


def control(s: Settings) -> str:
    """Operators' commands to the stream workers (resume a paused job); key = job."""
    return s.topic("control.v1")


def pipeline_groups(s: Settings) -> dict[str, list[str]]:
    """The consumer groups of the check-in path and the topics each consumes."""
    return {
        f"{s.topic_prefix}-ingest": [checkins(s)],
        f"{s.topic_prefix}-visits": [scans_by_card(s)],
        f"{s.topic_prefix}-compliance": [checkins(s), heartbeats(s), headcounts(s), gaps(s)],
    }


def audit(s: Settings) -> str:
    """Who submitted an itinerary or read its contacts, when; key = case_id."""
    return s.topic("audit.v1")


def catalogue(s: Settings) -> list[TopicSpec]:
    retention = str(s.retention_ms)
    # Kafka deletes whole segments: personal data outlives the retention by up to a segment's
    # span, so segments roll at a quarter of the retention, at most daily
    personal = {"retention.ms": retention, "segment.ms": str(min(DAY_MS, s.retention_ms // 4))}
    n = s.checkin_partitions
    return [
        TopicSpec(
            checkins(s), n, "venue_id", checkin.CODEC, Stamp.EVENT,
            {**personal, "cleanup.policy": "delete"},
        ),
        TopicSpec(
            heartbeats(s), n, "venue_id", heartbeat.CODEC, Stamp.EVENT,
            {"retention.ms": str(3 * DAY_MS), "cleanup.policy": "delete"},
        ),
        TopicSpec(
            headcounts(s), n, "venue_id", headcount.CODEC, Stamp.EVENT,
            {"retention.ms": retention, "cleanup.policy": "delete"},
        ),
        TopicSpec(
            scans_by_card(s), n, "card_id", card_scan.CODEC, Stamp.EVENT,
            {**personal, "cleanup.policy": "delete"},
        ),
        # Compacted: the latest content of every (venue, day, card) bucket, which is all the
        # tracer API needs to rebuild its index; old buckets also expire (by their last visit).
        TopicSpec(
            visits(s), n, "venue_id/day/card_id", visits_codec.CODEC, Stamp.LAST_VISIT,
            {**personal, "cleanup.policy": "compact,delete", "min.compaction.lag.ms": "60000",
             "segment.ms": str(min(6 * 3600 * 1000, s.retention_ms // 4))},
        ),
        TopicSpec(
            itineraries(s), 3, "case_id", itinerary.CODEC, Stamp.SUBMISSION,
            {**personal, "cleanup.policy": "delete"},
        ),
        # a result lists every contact: thousands at busy venues, megabytes for long itineraries
        TopicSpec(
            match_results(s), 3, "case_id", match_result.CODEC, Stamp.SUBMISSION,
            {**personal, "cleanup.policy": "compact,delete",
             "max.message.bytes": str(MAX_RESULT_BYTES)},
        ),
        # names cases and when they were where: personal data, whose retention it keeps
        TopicSpec(
            clusters(s), 3, "cluster_id", cluster.CODEC, Stamp.WRITTEN,
            {**personal, "cleanup.policy": "compact,delete"},
        ),
        # names a case's contacts: personal data, whose retention it keeps
        TopicSpec(
            followups(s), 3, "case_id/card_id", followup.CODEC, Stamp.WRITTEN,
            {**personal, "cleanup.policy": "compact,delete"},
        ),
        TopicSpec(
            gaps(s), n, "venue_id", gap.CODEC, Stamp.WRITTEN,
            {**personal, "cleanup.policy": "delete"},
        ),
        TopicSpec(
            compliance(s), n, "venue_id/kind/id", compliance_codec.CODEC, Stamp.WRITTEN,
            {**personal, "cleanup.policy": "compact,delete"},  # gap records name the case
        ),
        TopicSpec(
            alerts(s), n, "alert_id", alert.CODEC, Stamp.WRITTEN,
            {"retention.ms": retention, "cleanup.policy": "compact,delete"},
        ),
        # the audit trail outlives the data it accounts for (it holds no contacts, only counts)
        TopicSpec(
            audit(s), 3, "case_id", audit_codec.CODEC, Stamp.WRITTEN,
            {"retention.ms": str(365 * DAY_MS), "cleanup.policy": "delete"},
        ),
        # inspection records are evidence for sanctions: kept a year
        TopicSpec(
            inspections(s), 3, "venue_id", inspection.CODEC, Stamp.WRITTEN,
            {"retention.ms": str(365 * DAY_MS), "cleanup.policy": "delete"},
        ),
        TopicSpec(
            campaigns(s), 1, "campaign_id", campaign.CODEC, Stamp.WRITTEN,
            {"cleanup.policy": "compact"},
        ),
        # Refused inputs are mostly scans (who was where): no longer than the data itself.
        TopicSpec(
            deadletter(s), 3, "original key", deadletter_codec.CODEC, Stamp.WRITTEN,
            {**personal, "cleanup.policy": "delete"},
        ),
        TopicSpec(
            control(s), 1, "job", control_codec.CODEC, Stamp.WRITTEN,
            {"retention.ms": str(DAY_MS), "cleanup.policy": "delete"},
        ),
        TopicSpec(
            venues(s), 3, "venue_id", venue.CODEC, Stamp.WRITTEN,
            {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
        ),
    ]
