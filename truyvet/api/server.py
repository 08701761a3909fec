"""Running the tracer API process: the service, then the HTTP server, until a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from truyvet.api.app import build_app
from truyvet.api.access import Tokens, parse_tokens
from truyvet.api.limits import Limits
from truyvet.api.compliance.service import ComplianceService
from truyvet.api.dashboard.ops import OpsMonitor
from truyvet.api.tracing.service import TracerService
from truyvet import gc_tuning, stopping
from truyvet.kafka import lag, producer
from truyvet.kafka.admin import ensure_topics_waiting
from truyvet.settings import Settings

log = logging.getLogger(__name__)


async def serve(s: Settings, tokens: Tokens, host: str, port: int,
                stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stop.set()
        # a broker that is gone can make closing its clients wait; do not outlive the deadline
        stopping.hold_to_deadline("tracer API")

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass
    await asyncio.to_thread(ensure_topics_waiting, s)  # a cluster electing: wait
    lags = lag.register(s)
    producer.export_metrics()
    service = TracerService(s)
    compliance = ComplianceService(s, service.producer)
    followers = [*service.followers, *compliance.followers]
    ops = OpsMonitor(s, lags.lags, lags.reader.end_offsets,
                     views=lambda: {f.name: f.behind() for f in followers},
                     distinct=lambda: {"scans": compliance.distinct_scans(),
                                       "compliance_alerts": compliance.compliance_alerts()})
    limits = Limits(rate=s.api_rate, max_streams=s.api_max_streams)
    # a handler runs to its end when its client goes: a submission's result is published
    # after its answer was written, whether or not the client still listens
    runner = web.AppRunner(build_app(service, compliance, ops, tokens, limits), access_log=None,
                           handler_cancellation=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()  # /healthz answers 503 while the index is rebuilt
    log.info("tracer API on http://%s:%d (rebuilding the index ...)", host, port)
    try:
        ops.start()
        await asyncio.to_thread(compliance.start)
        sweeping = asyncio.create_task(compliance.expire_forever())
        await service.start()
        await stop.wait()
        sweeping.cancel()
    finally:
        await runner.cleanup()
        ops.stop()
        compliance.stop()
        await service.stop()
        lags.close()


def run_api(s: Settings, token: str, host: str, port: int) -> None:
    try:
        tokens = parse_tokens(s.api_tokens, token)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if not len(tokens):
        raise SystemExit("the API needs tokens: set TRUYVET_API_TOKENS (name:role:token, ...) "
                         "or TRUYVET_API_TOKEN (every role)")
    gc_tuning.tune()
    # the index follower thread decodes and applies visits while requests are answered on the
    # event loop: hand the interpreter lock over more often than every 5 ms
    sys.setswitchinterval(0.0005)
    asyncio.run(serve(s, tokens, host, port))
