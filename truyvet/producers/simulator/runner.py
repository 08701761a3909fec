"""Pacing the timeline and publishing it: scans to Kafka, itineraries to files.

Events whose send time has passed are published as fast as ``rate`` allows (catch-up,
or a whole past period); with ``follow`` the simulation then continues in real time,
publishing each event when the wall clock reaches its send time, until stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from truyvet.producers.scans import ScanPublisher
from truyvet.producers.simulator.timeline import Behaviour, Timeline
from truyvet.producers.simulator.world import build_world
from truyvet import api_client, stopping
from truyvet.codec import venue as venue_codec
from truyvet.kafka.lag import pipeline_lag
from truyvet.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class SimulationConfig:
    seed: int = 1
    residents: int = 20_000
    venues: int | None = None
    start_ms: int = 0
    end_ms: int | None = None  # None with follow: run until stopped
    follow: bool = False
    rate: float = 0.0  # max scans per second, 0 = unlimited
    behaviour: Behaviour = field(default_factory=Behaviour)
    itineraries_dir: Path | None = None
    api_url: str | None = None  # submit declared itineraries to the tracer API
    api_token: str = ""


@dataclass
class SimulationStats:
    scans: int = 0
    itineraries: int = 0
    heartbeats: int = 0
    headcounts: int = 0
    venues: int = 0
    residents: int = 0
    simulated_until_ms: int = 0


def run(
    s: Settings,
    cfg: SimulationConfig,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.time,
    report_every_s: float = 10.0,
) -> SimulationStats:
    stop = stop or threading.Event()
    world = build_world(cfg.seed, cfg.residents, cfg.venues)
    stats = SimulationStats(venues=len(world.venues), residents=len(world.residents))
    log.info("simulating %d residents and %d venues from seed %d",
             stats.residents, stats.venues, cfg.seed)
    publisher = ScanPublisher(s, client_id="truyvet-simulator")
    for v in world.venues:  # the registry first: compliance needs each venue's hours
        publisher.venue(venue_codec.from_mapping(v.record()))
    if cfg.itineraries_dir is not None:
        cfg.itineraries_dir.mkdir(parents=True, exist_ok=True)
    bucket = _RateLimit(cfg.rate)
    next_report = time.monotonic() + report_every_s
    following = False
    try:
        for event in Timeline(world, cfg.start_ms, cfg.behaviour).events():
            if stop.is_set() or (cfg.end_ms is not None and event.send_ms > cfg.end_ms):
                break
            if cfg.follow:
                if not following and event.send_ms / 1000 > clock():
                    following = True  # the past is published: from here on, real time
                    log.info("simulator: caught up with the clock (%d scans, %d heartbeats "
                             "published); following real time", stats.scans, stats.heartbeats)
                while (wait := event.send_ms / 1000 - clock()) > 0 and not stop.is_set():
                    publisher.poll(min(wait, 0.2))
                if stop.is_set():
                    break
            stats.simulated_until_ms = event.send_ms
            # the record's time is when the simulated device sent it (never later than now),
            # as a real scanner's would be: the compliance job reads how far its inputs are
            # complete from record times, and a backfill stamped "now" would say "complete"
            now_ms = int(clock() * 1000)
            if event.kind == "scan":
                bucket.take()
                publisher.publish(event.payload, now_ms)
                stats.scans += 1
            elif event.kind == "heartbeat":
                publisher.heartbeat(event.payload, event.send_ms, now_ms)
                stats.heartbeats += 1
            elif event.kind == "headcount":
                publisher.headcount(event.payload, event.send_ms, now_ms)
                stats.headcounts += 1
            else:
                stats.itineraries += 1
                if cfg.itineraries_dir is not None:
                    path = cfg.itineraries_dir / f"{event.payload['case_id']}.json"
                    path.write_bytes(orjson.dumps(event.payload, option=orjson.OPT_INDENT_2))
                if cfg.api_url:
                    # a tracer asks hours after the visits: let the pipeline take in what
                    # was sent so far (late scans still arrive later and update the answer)
                    while publisher.flush(0.5) and not stop.is_set():
                        pass
                    _wait_processed(s, stop)
                    _submit(cfg.api_url, cfg.api_token, event.payload, stop)
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + report_every_s
                log.info("simulator: %d scans, %d itineraries published", stats.scans,
                         stats.itineraries)
    finally:
        # stopped: wait a little for the broker, not for ever (it may be the one that is gone)
        remaining = publisher.flush(stopping.FLUSH_ON_STOP_S if stop.is_set() else 330.0)
        failures = publisher.failed
        if remaining or failures:
            log.error("simulator: %d records not delivered, %d not acknowledged when it "
                      "stopped", failures, remaining)
    return stats


def _wait_processed(s: Settings, stop: threading.Event, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            if pipeline_lag(s) == 0:
                stop.wait(0.5)  # and the API's index following the visits topic
                return
        except Exception as exc:  # noqa: BLE001 - no group yet: the worker is starting
            log.debug("pipeline lag unknown: %s", exc)
        stop.wait(0.5)


def _submit(url: str, token: str, itinerary: dict[str, object], stop: threading.Event) -> None:
    """POST an itinerary, waiting while the API is not ready; a refusal is logged."""
    for attempt in range(60):
        try:
            status, res = api_client.call(url, token, "POST", "/api/v1/itineraries", itinerary)
        except OSError as exc:
            log.warning("tracer API unreachable (%s); retrying", exc)
        else:
            if status < 300:
                gaps = sum(s["gap"] for s in res["stops"])
                log.info("itinerary %s: %d stops, %d gaps", itinerary["case_id"],
                         len(res["stops"]), gaps)
                return
            if status != 503:
                log.error("itinerary %s refused: %s", itinerary["case_id"],
                          api_client.refusal(status, res))
                return
        if stop.wait(min(10.0, 0.5 * 2 ** attempt)):
            return
    log.error("itinerary %s not submitted: the API never became ready", itinerary["case_id"])


class _RateLimit:
    """A token bucket of one second's worth; ``rate`` 0 means no limit."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.last = time.monotonic()

    def take(self) -> None:
        if self.rate <= 0:
            return
        while True:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            time.sleep((1 - self.tokens) / self.rate)
