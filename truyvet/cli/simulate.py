"""``truyvet simulate``: scanners of a simulated province publishing check-ins."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click
import prometheus_client

from truyvet.producers.simulator.runner import SimulationConfig, run
from truyvet.producers.simulator.timeline import Behaviour
from truyvet import settings as settings_mod
from truyvet import stopping
from truyvet.cli.options import INSTANT, env_option
from truyvet.kafka import producer


@click.command("simulate")
@env_option("--seed", "TRUYVET_SIM_SEED", default=1, type=int, help="Same seed, same province, same scans.")
@env_option("--residents", "TRUYVET_SIM_RESIDENTS", default=20_000, type=int, help="People with cards.")
@env_option("--venues", "TRUYVET_SIM_VENUES", default=0, type=int,
            help="Venues; 0 = one per 40 residents.")
@env_option("--start", "TRUYVET_SIM_START", default="-1h", type=INSTANT,
            help="First scan time: RFC 3339, 'now' or relative (-6h).")
@env_option("--end", "TRUYVET_SIM_END", default="now", type=INSTANT,
            help="Last send time (ignored with --follow).")
@env_option("--follow", "TRUYVET_SIM_FOLLOW", is_flag=True, default=False,
            help="After catching up, go on in real time until stopped.")
@env_option("--rate", "TRUYVET_SIM_RATE", default=0.0, type=float,
            help="Max scans per second while catching up; 0 = as fast as possible.")
@env_option("--max-late", "TRUYVET_SIM_MAX_LATE_S", default=7200, type=int,
            help="Seconds a flaky scanner may hold scans before sending them.")
@env_option("--duplicate-rate", "TRUYVET_SIM_DUPLICATE_RATE", default=0.005, type=float,
            help="Share of scans sent twice.")
@env_option("--cases-per-day", "TRUYVET_SIM_CASES_PER_DAY", default=4.0, type=float,
            help="F0/F1 cases diagnosed per simulated day.")
@env_option("--itineraries-dir", "TRUYVET_SIM_ITINERARIES_DIR", default=None,
            type=click.Path(file_okay=False, path_type=Path),
            help="Write each declared itinerary as JSON here (default: DATA_DIR/itineraries).")
@env_option("--submit/--no-submit", "TRUYVET_SIM_SUBMIT", default=False,
            help="Also submit each itinerary to the tracer API (--api-url, --api-token).")
@env_option("--metrics-port", "TRUYVET_SIM_METRICS_PORT", default=0, type=int,
            help="Serve Prometheus /metrics (records published, failures) on this loopback port; "
                 "0: none.")
@settings_mod.options("bootstrap_servers", "kafka_port", "topic_prefix", "data_dir", "api_url",
                      "api_port", "api_token")
def command(seed: int, residents: int, venues: int, start: int, end: int, follow: bool,
            rate: float, max_late: int, duplicate_rate: float, cases_per_day: float,
            itineraries_dir: Path | None, submit: bool, metrics_port: int,
            **kwargs: object) -> None:
    """Simulate Thừa Thiên Huế's scanners: venues of every kind with their opening hours and
    popularity, residents with daily routines, venues that scan only part of their visitors,
    skip exit scans or still use the banned venue_qr poster, flaky scanners sending late,
    re-sent scans, and F0/F1 cases whose declared itineraries include unscanned visits."""
    s = settings_mod.from_options(kwargs)
    cfg = SimulationConfig(
        seed=seed, residents=residents, venues=venues or None, start_ms=start,
        end_ms=None if follow else end, follow=follow, rate=rate,
        behaviour=Behaviour(max_late_s=max_late, duplicate_rate=duplicate_rate,
                            cases_per_day=cases_per_day),
        itineraries_dir=itineraries_dir or s.data_dir / "itineraries",
        api_url=s.api_url if submit else None, api_token=s.token(),
    )
    if metrics_port:
        prometheus_client.start_http_server(metrics_port, addr="127.0.0.1")
        producer.export_metrics()
    stop = threading.Event()
    def on_signal(*_: object) -> None:
        stop.set()
        stopping.hold_to_deadline("simulator")

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    stats = run(s, cfg, stop)
    click.echo(f"published {stats.scans:,} scans; {stats.itineraries} itineraries written to "
               f"{cfg.itineraries_dir}")
