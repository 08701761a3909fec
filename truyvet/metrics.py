"""Every Prometheus metric truyvet exports, defined once (name, type, meaning).

Processes import the objects from here; nothing else calls the prometheus_client
constructors. Labels are bounded sets (stage, reason, topic, partition).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- ingest ---------------------------------------------------------------------------------
SCANS_INGESTED = Counter(
    "truyvet_scans_ingested_total",
    "Counter: check-ins that passed validation in the ingest job and were forwarded.",
)
DEADLETTERS = Counter(
    "truyvet_deadletter_records_total",
    "Counter: inputs refused and written to the dead-letter topic, by stage and reason.",
    ["stage", "reason"],
)
DEADLETTERS_SEEN = Counter(
    "truyvet_deadletters_seen_total",
    "Counter: records read from the dead-letter topic by the monitor agent, by stage and reason"
    " (all producers of dead letters, including `truyvet publish`).",
    ["stage", "reason"],
)
EVENT_TIME_LAG = Gauge(
    "truyvet_event_time_lag_seconds",
    "Gauge: wall clock minus the event time (scanned_at) of the last scan ingested, per partition.",
    ["partition"],
)

JOB_RECORDS = Counter(
    "truyvet_job_records_total",
    "Counter: input records processed (and committed) by a stream job, by job.",
    ["job"],
)

JOB_PAUSED = Gauge(
    "truyvet_job_paused",
    "Gauge: 1 while the dead-letter guard holds a stream job paused (until `truyvet dlq resume"
    " JOB`), else 0; by job.",
    ["job"],
)

# --- visits --------------------------------------------------------------------------------
VISIT_BUCKETS_EMITTED = Counter(
    "truyvet_visit_buckets_emitted_total",
    "Counter: (venue, day, card) visit buckets written by the visits job (replacements).",
)
SCANS_HELD = Gauge(
    "truyvet_visits_scans_held",
    "Gauge: scans within the retention held in the visits job's state, per source partition.",
    ["partition"],
)

# --- compliance ---------------------------------------------------------------------------
ALERTS = Counter(
    "truyvet_alerts_total",
    "Counter: alerts raised, by kind (compliance: low_coverage, silent, silent_entrance, "
    "venue_qr, gaps; "
    "the API's: cluster).", ["kind"],
)

# --- tracer API ---------------------------------------------------------------------------
MATCH_LATENCY = Histogram(
    "truyvet_match_latency_seconds",
    "Histogram: time to answer an itinerary from the index (all its stops), in the API.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
)
ITINERARIES = Counter(
    "truyvet_itineraries_total", "Counter: itineraries submitted to the tracer API.",
    ["classification"],
)
RESULT_REVISIONS = Counter(
    "truyvet_result_revisions_total",
    "Counter: match results that changed after submission because late scans arrived.",
)
GAPS = Counter(
    "truyvet_gaps_total", "Counter: gap events published, by status (open, resolved).", ["status"],
)
REDIS_REFILLS = Counter(
    "truyvet_redis_refills_total",
    "Counter: times the API found Redis empty (flushed or restarted) and wrote every result again.",
)
VIEW_BEHIND = Gauge(
    "truyvet_api_view_behind_records",
    "Gauge: records of its topic an API view (index, compliance, alerts, ...) has not applied yet.",
    ["view"],
)
API_REQUESTS = Counter(
    "truyvet_api_requests_total",
    "Counter: HTTP requests the API answered, by method, route (as registered, never the path)"
    " and status (401s and 403s: refusals and token guessing).",
    ["method", "route", "status"],
)
FOLLOWER_SKIPPED = Counter(
    "truyvet_follower_skipped_records_total",
    "Counter: records an API view (topic follower) passed over, by follower and reason: "
    "`invalid` (its codec refused it) or `error` (its handler failed: a bug; /healthz degraded).",
    ["follower", "reason"],
)
INDEX_VISITS = Gauge("truyvet_index_visits", "Gauge: visits held in the API's in-memory index.")
INDEX_CHECKPOINT_WRITTEN = Gauge(
    "truyvet_index_checkpoint_written_seconds",
    "Gauge: when the API last wrote its index checkpoint (Unix seconds; 0: not yet). A restart "
    "reads the visits topic from there on.",
)
INDEX_CHECKPOINT_FAILURES = Counter(
    "truyvet_index_checkpoint_failures_total",
    "Counter: index checkpoints the API could not write (disk full, not writable): its next "
    "restart reads the visits topic from an older checkpoint or from the beginning.",
)
INDEX_BYTES = Gauge(
    "truyvet_index_bytes", "Gauge: bytes of the index's visit columns (allocated)."
)

# --- consumer lag (read from Kafka every few seconds: right across rebalances and restarts) -----
# Exported by truyvet.kafka.lag.LagCollector under these names, labels group/topic/partition.
CONSUMER_LAG = (
    "truyvet_consumer_lag",
    "Gauge: end offset minus the group's committed offset, per group, topic and partition"
    " (a partition without a commit counts from its earliest offset).",
)
CONSUMER_COMMITTED = (
    "truyvet_consumer_committed_offset",
    "Gauge: the group's committed offset (next record it will process), -1 if none.",
)
TOPIC_END_OFFSET = ("truyvet_topic_end_offset", "Gauge: the partition's end offset (high watermark).")
CONSUMER_LAG_AGE = (
    "truyvet_consumer_lag_age_seconds",
    "Gauge: how long ago the lag gauges were read from Kafka (read every few seconds; a broker"
    " away leaves them as they were, and this grows).",
)

# --- producers (read from each live DurableProducer's delivery accounting at scrape time) -----
RECORDS_PUBLISHED = (
    "truyvet_records_published",
    "Counter: records the broker acknowledged (acks=all), per producer client.",
)
PUBLISH_FAILURES = (
    "truyvet_publish_failures",
    "Counter: records the broker never acknowledged after every retry (reported, with the"
    " record, to the caller), per producer client.",
)
PUBLISH_IN_FLIGHT = (
    "truyvet_publish_in_flight", "Gauge: records handed to a producer and not yet acknowledged.",
)
