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
EVENT_TIME_LAG = Gauge(
    "truyvet_event_time_lag_seconds",
    "Gauge: wall clock minus the event time (scanned_at) of the last scan ingested, per partition.",
    ["partition"],
)
