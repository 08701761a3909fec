"""What the operations room watches, sampled from Kafka every few seconds.

Each sample holds the end offsets of the topics that count things (check-ins, dead letters,
gaps, alerts, itineraries) -- records, re-sent ones included: the pipeline's throughput --,
the distinct scans within the retention (``scans``: what the compliance job counted, each
scan once however often a scanner re-sent it; the dashboard's total), every consumer group's lag (the same numbers as the
``truyvet_consumer_lag`` gauges, which Kafka's own tool confirms in a test) and how far behind
this API's own views are (the records its topic followers have not applied yet: what the
dashboard and the inspection queue do not show yet). Rates are
differences between samples, so they are right whichever workers produce or consume, and
survive restarts of this process (the first rate needs two samples). Pure summarising
(:func:`summarise`) is kept apart from the sampling thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from truyvet import metrics, topics
from truyvet.kafka.lag import PartitionLag
from truyvet.settings import Settings

log = logging.getLogger(__name__)
COUNTED = ("checkins", "deadletter", "gaps", "alerts", "itineraries")


@dataclass(frozen=True)
class Sample:
    at: float  # wall clock, seconds
    totals: dict[str, int]  # COUNTED -> records ever written (sum of end offsets)
    lag: dict[str, int]  # consumer group (without prefix) -> records behind
    # this API's own views (topic followers) -> records not yet applied (None: not known yet)
    views: dict[str, int | None] = field(default_factory=dict)


def summarise(samples: list[Sample], window_s: float = 10.0) -> dict[str, Any]:
    """The latest totals and lag, rates over the last ``window_s``, and the series."""
    if not samples:
        return {"at": None, "totals": {}, "rates": {}, "lag": {}, "views": {}, "series": []}
    last = samples[-1]
    base = next((x for x in samples if last.at - x.at <= window_s), last)
    if base is last and len(samples) > 1:
        base = samples[-2]
    rates = {k: _rate(base, last, k) for k in last.totals}
    series = []
    for prev, cur in zip(samples, samples[1:], strict=False):
        series.append({"at": round(cur.at, 3), "scans_per_s": _rate(prev, cur, "checkins"),
                       "lag": sum(cur.lag.values())})
    scans_rate = rates.get("checkins") or 0.0
    behind = sum(last.lag.values())
    return {"at": round(last.at, 3), "totals": last.totals, "rates": rates, "lag": last.lag,
            "lag_total": behind, "views": last.views,
            # how long the pipeline would take to catch up at the current input rate
            "drain_s": None if not behind else (round(behind / scans_rate, 1)
                                                 if scans_rate else None),
            "series": series}


def _rate(a: Sample, b: Sample, key: str) -> float | None:
    if b.at <= a.at or key not in a.totals:
        return None
    return round(max(0, b.totals[key] - a.totals[key]) / (b.at - a.at), 1)


class OpsMonitor:
    """A daemon thread sampling every ``period_s`` and keeping ``keep`` samples."""

    def __init__(self, s: Settings, lags: Callable[[], dict[str, list[PartitionLag]]],
                 ends: Callable[[list[str]], dict[str, int]],
                 period_s: float = 2.0, keep: int = 150,
                 views: Callable[[], dict[str, int | None]] = dict,
                 distinct: Callable[[], dict[str, int]] = dict) -> None:
        self.s = s
        self.lags = lags
        self.ends = ends  # per topic, records ever written
        self.views = views
        self.distinct = distinct
        self.period_s = period_s
        self.samples: deque[Sample] = deque(maxlen=keep)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ops-monitor", daemon=True)
        self._topics = {k: getattr(topics, k)(s) for k in COUNTED}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            samples = list(self.samples)
        return summarise(samples)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                sample = self.sample()
                with self.lock:
                    self.samples.append(sample)
            except Exception as exc:  # noqa: BLE001 - the broker may be away; keep sampling
                log.warning("ops sample failed: %s", exc)
            self._stop.wait(max(0.1, self.period_s - (time.monotonic() - started)))

    def sample(self) -> Sample:
        by_topic = self.ends(list(self._topics.values()))
        at = time.time()
        views = self.views()
        for name, behind in views.items():
            if behind is not None:
                metrics.VIEW_BEHIND.labels(name).set(behind)
        prefix = f"{self.s.topic_prefix}-"
        lag = {g.removeprefix(prefix): sum(p.lag for p in parts)
               for g, parts in self.lags().items()}
        totals = {k: by_topic[t] for k, t in self._topics.items()} | self.distinct()
        return Sample(at, totals, lag, views)
