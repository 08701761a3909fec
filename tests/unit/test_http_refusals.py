"""Refusals at the HTTP level, on the real application without Kafka or Redis behind it:
malformed requests get their 4xx (with what the RFCs require), never a 500."""

from __future__ import annotations

import asyncio
from unittest.mock import MagicMock

import orjson
from aiohttp.test_utils import TestServer

from truyvet.api.access import parse_tokens
from truyvet.api.app import build_app

TOKEN = "t" * 22


async def _raw_exchange(request: bytes) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 request (bytes a client library would refuse to send) and its answer."""
    app = build_app(MagicMock(), MagicMock(), MagicMock(), parse_tokens("", TOKEN))
    async with TestServer(app) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(request)
        await writer.drain()
        raw = await reader.read()
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


def exchange(request: bytes) -> tuple[int, dict[str, str], bytes]:
    return asyncio.run(_raw_exchange(request))


def test_a_method_not_allowed_says_which_are() -> None:
    status, headers, body = exchange(b"TRACE /api/v1/whoami HTTP/1.1\r\nHost: x\r\n"
                                     b"Authorization: Bearer " + TOKEN.encode() +
                                     b"\r\nConnection: close\r\n\r\n")
    assert status == 405
    assert set(headers["Allow"].split(",")) == {"GET", "HEAD"}  # RFC 9110 15.5.6
    assert orjson.loads(body)["error"]["reason"] == "method_not_allowed"


def test_a_bearer_token_that_is_not_utf8_is_refused_with_401() -> None:
    status, _, body = exchange(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n"
                               b"Authorization: Bearer \xff\xfe\xc3\r\nConnection: close\r\n\r\n")
    assert status == 401
    assert orjson.loads(body)["error"]["reason"] == "unauthorized"
