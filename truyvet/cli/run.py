"""``truyvet run``: the whole local pipeline in one command.

Starts (or reuses) Kafka and Redis, creates the topics, starts the stream workers, the tracer
API (with the dashboard) and the scanner simulator as child processes with their logs under DATA_DIR/logs, prints where
everything is, opens this week's inspection campaign (the directive's *Tuần cao điểm*: cafes,
restaurants, bars), and on Ctrl-C stops it all in reverse order: children first (gracefully,
offsets committed), then the servers this command started. A child that dies meanwhile is
started again after a back-off (``devstack/supervisor.py``), said on the console.

Each child gets only the API credentials it needs: the API knows every principal; the
simulator submits its cases as the principal ``run-simulator`` (tracer), this command opens the
campaign as ``run-campaigns`` (inspector), both with tokens made for this run and never
written down; the workers get none. The admin token (DATA_DIR/api-token, 0600) is the user's:
it is never printed, only where to read it.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import datetime, timedelta

import click

from truyvet import api_client
from truyvet import settings as settings_mod
from truyvet import stopping
from truyvet.cli import stack
from truyvet.cli.options import env_option
from truyvet.cli.status import lag_report
from truyvet.codec.venue import HOSPITALITY
from truyvet.devstack.supervisor import Child
from truyvet.domain import localtime
from truyvet.secret_file import new_token
from truyvet.settings import Settings

SIMULATOR, CAMPAIGNS = "run-simulator", "run-campaigns"  # the principals this command makes
CHILD_STOP_S = stopping.STOP_DEADLINE_S + 10  # a child exits by its deadline, or is killed



@click.command("run")
@env_option("--workers", "TRUYVET_WORKERS", default=1, type=int, help="Stream worker processes.")
@env_option("--simulate/--no-simulate", "TRUYVET_RUN_SIMULATOR", default=True,
            help="Start the scanner simulator.")
@env_option("--residents", "TRUYVET_SIM_RESIDENTS", default=20_000, type=int,
            help="Simulated residents.")
@env_option("--backfill", "TRUYVET_SIM_BACKFILL", default="-24h",
            help="The simulator first publishes scans since this long ago, then follows the "
                 "clock (a day: the dashboard and the inspection queue have a day of evidence "
                 "at any hour; 20,000 residents catch up in ~15 s).")
@settings_mod.options(*stack._STACK_SETTINGS, "max_future_skew_s", "worker_web_port",
                      "dwell_minutes", "match_tolerance_s", "close_contact_s", "cluster_window",
                      "api_host", "api_port", "api_token", "api_tokens")
def command(workers: int, simulate: bool, residents: int, backfill: str, **kwargs: object) -> None:
    """Run the whole local pipeline: Kafka, Redis, stream workers, the tracer API and the
    scanner simulator (which also submits its cases' itineraries to the API)."""
    s = settings_mod.from_options(kwargs)
    configured_token = bool(s.api_token)
    s = s.replace(api_token=s.token(create=True))
    simulator_token, campaigns_token = new_token(), new_token()
    click.echo("starting the local stack (Kafka, Redis, topics) ...")
    started = stack.up(s)
    # a child that dies of a signal (e.g. SIGSEGV in a C extension) leaves its Python stack
    env = {"PYTHONFAULTHANDLER": "1", **os.environ, **s.to_env(),
           "TRUYVET_API_TOKEN": "", "TRUYVET_API_TOKENS": ""}  # each child: only its own
    logs = s.data_dir / "logs"
    me = [sys.executable, "-m", "truyvet"]
    children = [
        Child(f"worker-{i + 1}", [*me, "worker", "--worker-web-port", str(s.worker_web_port + i)],
              logs / f"worker-{i + 1}.log")
        for i in range(workers)
    ]
    principals = ",".join(e for e in (s.api_tokens, f"{SIMULATOR}:tracer:{simulator_token}",
                                      f"{CAMPAIGNS}:inspector:{campaigns_token}") if e)
    children.append(Child("api", [*me, "api"], logs / "api.log",
                          {"TRUYVET_API_TOKEN": s.api_token, "TRUYVET_API_TOKENS": principals}))
    sim_metrics_port = s.worker_web_port + workers
    if simulate:
        children.append(Child("simulator", [*me, "simulate", "--follow", "--submit", "--start",
                                            backfill, "--residents", str(residents),
                                            "--metrics-port", str(sim_metrics_port)],
                              logs / "simulator.log", {"TRUYVET_API_TOKEN": simulator_token}))
    stopping = False

    def on_signal(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    def say(line: str) -> None:
        click.echo(time.strftime("%H:%M:%S ") + line, err=True)

    try:
        for child in children:
            child.start(env, time.monotonic())
        _print_urls(s, children, workers, configured_token,
                    sim_metrics_port if simulate else None)
        next_status = time.monotonic() + 15
        campaign = default_campaign(time.time())
        while not stopping:
            time.sleep(0.5)
            if campaign is not None and _create_campaign(s, campaigns_token, campaign):
                click.echo(f"inspection campaign {campaign['campaign_id']!r}: {campaign['name']}")
                campaign = None
            for child in children:  # one that died starts again, after a back-off
                child.watch(env, time.monotonic(), say)
            if time.monotonic() >= next_status:
                next_status = time.monotonic() + 15
                _print_lag(s)
    finally:
        click.echo("stopping ...")
        for child in reversed(children):
            child.stop(CHILD_STOP_S, say)
        stack.down(s, only=started)
        kept = {"kafka", "redis"} - set(started)
        click.echo("stopped" + (f" (left running what was already up: {', '.join(sorted(kept))})"
                                if kept else ""))


def default_campaign(now_s: float) -> dict[str, object]:
    """The inspection week of the directive for the current week (Monday to Sunday, Vietnam
    time): cafes, restaurants and places serving alcohol."""
    local = datetime.fromtimestamp(now_s, localtime.TZ)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)
    sunday = monday + timedelta(days=6)
    year, week, _ = monday.isocalendar()
    return {"campaign_id": f"tuan-cao-diem-{year}-w{week:02d}",
            "name": f"Tuần cao điểm kiểm tra quét mã QR {monday:%d/%m}–{sunday:%d/%m/%Y}",
            "from": monday.isoformat(), "to": (monday + timedelta(days=7)).isoformat(),
            "categories": sorted(HOSPITALITY)}


def _create_campaign(s: Settings, token: str, campaign: dict[str, object]) -> bool:
    """True once the API has it (the same id again replaces it: safe across restarts)."""
    try:
        status, _ = api_client.call(s.api_url, token, "POST", "/api/v1/campaigns",
                                    campaign, timeout=2)
    except OSError:
        return False  # not listening yet
    return status < 300


def _print_urls(s: Settings, children: list[Child], workers: int, configured: bool,
                sim_metrics_port: int | None) -> None:
    token = "$TRUYVET_API_TOKEN" if configured else f"$(cat {s.data_dir / 'api-token'})"
    click.echo("")
    click.echo(f"  dashboard        {s.api_url}/dashboard/  (asks for the token once: {token})")
    click.echo(f"  workbench        {s.api_url}/workbench/  (the tracers' page; the same token)")
    click.echo(f"  inspector        {s.api_url}/inspector/  (the inspection teams' page; the same token)")
    click.echo(f"  tracer API       {s.api_url}  (bearer token: {token})")
    click.echo(f"                   curl -H \"Authorization: Bearer {token}\""
               f" {s.api_url}/api/v1/itineraries/CASE_ID")
    click.echo(f"                   .venv/bin/truyvet match --case-id MY-CASE-1 "
               f"{s.data_dir / 'itineraries'}/CASE_ID.json  (as a case of your own)")
    click.echo(f"  Kafka            {s.bootstrap_servers}")
    click.echo(f"  Redis            {s.redis_url}")
    click.echo("  report           .venv/bin/truyvet report --from MONDAY --to SUNDAY "
               "--format pdf  (or csv, html; --lang en)")
    click.echo(f"  API metrics      {s.api_url}/metrics")
    for i in range(workers):
        click.echo(f"  worker {i + 1} metrics http://127.0.0.1:{s.worker_web_port + i}/metrics")
    if sim_metrics_port:
        click.echo(f"  simulator metrics http://127.0.0.1:{sim_metrics_port}/metrics")
    for child in children:
        click.echo(f"  {child.name + ' log':<16} {child.log}")
    click.echo(f"  itineraries      {s.data_dir / 'itineraries'}")
    click.echo("  lag              truyvet status")
    click.echo("\nPress Ctrl-C to stop everything.\n")


def _print_lag(s: Settings) -> None:
    try:
        report = lag_report(s)
    except Exception as exc:  # noqa: BLE001 - a status line must not stop the pipeline
        click.echo(f"status unavailable: {exc}", err=True)
        return
    parts = [f"{g['group']}: lag {sum(int(p['lag']) for p in g['partitions']):,}"  # type: ignore[misc]
             for g in report["groups"]]
    click.echo(time.strftime("%H:%M:%S ") + ("; ".join(parts) or "no consumer groups yet"))
