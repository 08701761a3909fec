"""A submission's default answer goes out before its whole result is encoded and published:
on the real application, with a service that gives the answer and then holds the submission
until the test lets it go. The client has its answer while the service still works, and the
service finishes after the client has gone; a failure after the answer is logged, not turned
into a second response; the whole form waits."""

from __future__ import annotations

import asyncio
import http.client
import time
from typing import Any
from unittest.mock import MagicMock

import orjson
from aiohttp import web

from truyvet.api.access import parse_tokens
from truyvet.api.app import build_app
from truyvet.api.tracing.answers import Answer
from truyvet.api.tracing.service import Submitted
from truyvet.codec.timefmt import format_ms
from truyvet.domain.matching.ownership import Outcome

TOKEN = "t" * 22
NOW_S = int(time.time())
BODY = orjson.dumps({"case_id": "BN-1", "classification": "F0", "card_id": "card-1",
                     "stops": [{"venue_id": "V1", "from": format_ms((NOW_S - 3600) * 1000),
                                "to": format_ms((NOW_S - 1800) * 1000)}]})
ANSWER = Answer("BN-1", 1, b'{"case_id":"BN-1","revision":1,"default":true}', 1, 0)


class HeldService:
    """Answers at once (the default answer, when asked for it), then holds the submission
    until ``release`` is set, and raises ``then_raises`` when given."""

    def __init__(self, then_raises: Exception | None = None) -> None:
        self.ready = True
        self.s = MagicMock()
        self.producer = MagicMock()
        self.release = asyncio.Event()
        self.given_answered: list[bool] = []
        self.finished = False
        self.ended = asyncio.Event()  # the submission returned or raised
        self.then_raises = then_raises

    async def submit(self, body: Any, by: Any, audit: Any = None,
                     answered: Any = None) -> Submitted:
        self.given_answered.append(answered is not None)
        if answered is not None:
            await answered(ANSWER, Outcome.OPENED)
        try:
            await self.release.wait()
            self.finished = True
            if self.then_raises is not None:
                raise self.then_raises
            return Submitted(None, Outcome.OPENED, answered=answered is not None)
        finally:
            self.ended.set()


def _post(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, body=BODY, headers={"Authorization": f"Bearer {TOKEN}",
                                                   "Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


async def _exchange(service: HeldService, path: str, hold_s: float = 10.0
                    ) -> tuple[int, bytes, bool]:
    """POST, and (status, body, whether the service had finished when the client had read
    its answer); the service is let go once the answer is read, or after ``hold_s``."""
    app = build_app(service, MagicMock(), MagicMock(), parse_tokens("", TOKEN))  # type: ignore[arg-type]
    runner = web.AppRunner(app, handler_cancellation=False)  # as truyvet api runs it
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        call = asyncio.create_task(asyncio.to_thread(_post, port, path))
        done, _ = await asyncio.wait({call}, timeout=hold_s)
        finished_at_answer = service.finished
        service.release.set()
        status, body = await call
        await asyncio.wait_for(service.ended.wait(), 10)  # the handler ends before the server
    finally:
        await runner.cleanup()
    return status, body, finished_at_answer or not done


def test_the_default_answer_is_read_while_the_whole_is_still_being_published() -> None:
    service = HeldService()
    status, body, finished = asyncio.run(_exchange(service, "/api/v1/itineraries"))
    assert (status, body) == (201, ANSWER.json)
    assert not finished  # the client had it while the service still held the submission
    assert service.given_answered == [True] and service.finished


def test_a_failure_after_the_answer_is_logged_and_the_answer_stands() -> None:
    service = HeldService(then_raises=RuntimeError("result not sent"))
    status, body, finished = asyncio.run(_exchange(service, "/api/v1/itineraries"))
    assert (status, body, finished) == (201, ANSWER.json, False)


def test_the_whole_form_is_not_answered_early() -> None:
    service = HeldService()
    status, _, finished = asyncio.run(_exchange(service, "/api/v1/itineraries?contacts=all",
                                                hold_s=1.0))
    assert service.given_answered == [False]
    assert finished  # no answer before the service let it go
    assert status == 202  # this service's Submitted has no case: "recorded; answer follows"
