"""A small blocking client of truyvet's HTTP API, for the command line and the simulator."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import orjson


def call(url: str, token: str, method: str, path: str, body: object = None,
         query: dict[str, str] | None = None, timeout: float = 30.0) -> tuple[int, Any]:
    """One request; (HTTP status, decoded JSON body or None). Refusals (4xx/5xx) are returned,
    not raised; an unreachable API raises ``OSError``."""
    status, raw = call_raw(url, token, method, path, body, query, timeout)
    try:
        return status, orjson.loads(raw or b"null")
    except orjson.JSONDecodeError:
        if status < 400:
            raise
        return status, {"error": {"reason": "http_error",
                                  "detail": raw[:300].decode(errors="replace")}}


def call_raw(url: str, token: str, method: str, path: str, body: object = None,
             query: dict[str, str] | None = None, timeout: float = 30.0,
             content_type: str = "application/json") -> tuple[int, bytes]:
    """One request; (HTTP status, the body's bytes), refusals included. A body of bytes is
    sent as it is (as ``content_type``), any other as JSON."""
    data = None if body is None else (body if isinstance(body, bytes) else orjson.dumps(body))
    if query:
        path = f"{path}?{urllib.parse.urlencode(query)}"
    req = urllib.request.Request(f"{url}{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def refusal(status: int, body: Any) -> str:
    err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
    return f"{status} {err.get('reason', 'error')}: {err.get('detail', '')}"
