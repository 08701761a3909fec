"""What one caller may take of the API: the request rate per principal, failed token attempts
per address, open streams, and a watcher that falls behind (pure, with a clock we turn)."""

from __future__ import annotations

import asyncio
from unittest.mock import MagicMock

import orjson
from aiohttp.test_utils import TestClient, TestServer

from truyvet.api import limits
from truyvet.api.access import parse_tokens
from truyvet.api.app import build_app
from truyvet.api.limits import Limits, RateLimiter, StreamSlots, retry_after
from truyvet.api.tracing import service as service_mod


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    r = RateLimiter(rate=2.0, burst=4.0, clock=clock)
    assert [r.take("lan") for _ in range(4)] == [0.0] * 4
    assert r.take("lan") == 0.5  # one token comes every 0.5 s
    assert r.take("minh") == 0.0  # another caller has its own bucket
    clock.t += 0.5
    assert r.take("lan") == 0.0 and r.take("lan") == 0.5
    clock.t += 100
    assert [r.take("lan") for _ in range(5)][-1] > 0  # refilled to the burst, not beyond


def test_idle_buckets_are_forgotten_when_many_are_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(limits, "MAX_KEYS", 10)
    clock = Clock()
    r = RateLimiter(rate=1.0, burst=2.0, clock=clock)
    for i in range(10):
        r.take(f"10.0.0.{i}")
    clock.t += 10  # all refilled: idle
    r.take("busy")
    assert set(r._buckets) == {"busy"}


def test_streams_per_principal() -> None:
    slots = StreamSlots(2)
    assert slots.acquire("lan") and slots.acquire("lan") and not slots.acquire("lan")
    assert slots.acquire("minh")
    slots.release("lan")
    assert slots.acquire("lan") and not slots.acquire("lan")
    assert retry_after(0.01) == "1" and retry_after(2.2) == "3"


def test_a_watcher_too_far_behind_is_dropped_not_buffered() -> None:
    q: asyncio.Queue = asyncio.Queue(service_mod.WATCH_QUEUE)
    cases = [MagicMock(name=f"rev{i}") for i in range(service_mod.WATCH_QUEUE + 5)]
    for c in cases:
        service_mod._push(q, c)
    got = [q.get_nowait() for _ in range(q.qsize())]
    assert None in got and len(got) <= service_mod.WATCH_QUEUE
    assert got.index(None) == 0  # the watcher reads its end first


def test_past_its_rate_a_principal_gets_429_with_retry_after() -> None:
    clock = Clock()
    token, wrong = "x" * 22, "y" * 22
    app = build_app(MagicMock(), MagicMock(), MagicMock(), parse_tokens("", token),
                    Limits(rate=2.0, clock=clock))

    async def run() -> list[tuple[int, str | None, str]]:
        out = []
        async with TestClient(TestServer(app)) as client:
            for t in [token] * 5 + [wrong] * 2:
                r = await client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {t}"})
                body = orjson.loads(await r.read())
                out.append((r.status, r.headers.get("Retry-After"),
                            body.get("error", {}).get("reason", "")))
        return out

    got = asyncio.run(run())
    assert [s for s, _, _ in got[:5]] == [200, 200, 200, 200, 429]  # a burst of 4 (2 x rate)
    assert got[4][1:] == ("1", "too_many_requests")
    # failed token attempts per address: a fifth of the rate, bursts of 2 x that (0.8 -> 1)
    assert [s for s, _, _ in got[5:]] == [401, 429]
