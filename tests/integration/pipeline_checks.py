"""Whole-pipeline checks against the brute-force reference (tests/reference.py): the visit
buckets in Kafka and the scans the visits job holds, compared for every card, not a sample."""

from __future__ import annotations

from tests.integration.helpers import read_all
from tests.reference import RefScan, reference_buckets
from truyvet import topics
from truyvet.codec import visits as visits_codec
from truyvet.codec.checkin import CheckIn
from truyvet.settings import Settings

Bucket = tuple[str, int, str]  # (venue, start day, card)


def ref_scan(c: CheckIn) -> RefScan:
    return (c.card_id, c.event_id, c.venue_id, c.direction, c.scanned_at_ms // 1000)


def buckets_in_kafka(s: Settings, timeout: float = 300.0) -> dict[Bucket, list[tuple[int, int]]]:
    """The visits topic as a reader of the compacted topic sees it: the last value per key."""
    latest: dict[bytes, bytes | None] = {}
    for r in read_all(s, topics.visits(s), timeout=timeout):
        latest[r.key] = r.value  # type: ignore[index]
    out = {}
    for key, value in latest.items():
        venue, day, card, visits = visits_codec.decode_record(key, value)
        if visits:
            out[(venue, day, card)] = visits
    return out


def differing_buckets(s: Settings, visits: dict[str, list[tuple[str, int, int]]]
                      ) -> tuple[int, list[Bucket]]:
    """(buckets in Kafka, the keys whose content differs from the reference, either way)."""
    got, want = buckets_in_kafka(s), reference_buckets(visits)
    return len(got), sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))


def scans_held(metrics: str) -> int:
    """The visits job's ``truyvet_visits_scans_held``, summed over its partitions."""
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                   if line.startswith("truyvet_visits_scans_held{")))
