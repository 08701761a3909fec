"""A headless Chromium (Debian's ``chromium``) driven over the DevTools protocol, for the
dashboard's tests: open a page, evaluate JavaScript, save a screenshot. No extra packages:
the protocol is JSON over a WebSocket, spoken here with aiohttp."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from truyvet.report.pdf_format import find_browser, headless_flags


class Browser:
    def __init__(self, port: int, width: int = 1600, height: int = 1400) -> None:
        self.port = port
        self.size = (width, height)
        self._ids = itertools.count(1)
        self._profile = tempfile.TemporaryDirectory(prefix="truyvet-chromium-",
                                                    ignore_cleanup_errors=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Browser:
        self.proc = subprocess.Popen(
            [find_browser(), *headless_flags(self._profile.name),
             f"--remote-debugging-port={self.port}", "--remote-allow-origins=*",
             f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        page = await asyncio.to_thread(self._first_page)
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._profile.cleanup()

    def _first_page(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list",
                                            timeout=2) as resp:
                    pages = [p for p in json.loads(resp.read()) if p["type"] == "page"]
                if pages:
                    return pages[0]
            except OSError:
                pass
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise RuntimeError("chromium did not open its DevTools endpoint")
            time.sleep(0.2)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        assert self.ws is not None
        msg_id = next(self._ids)
        await self.ws.send_json({"id": msg_id, "method": method, "params": params})
        while True:
            msg = await asyncio.wait_for(self.ws.receive_json(), 60)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def eval(self, expression: str) -> Any:
        res = await self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                              awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        """Until ``expression`` is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"never true: {expression}")
            await asyncio.sleep(0.3)

    async def set_files(self, selector: str, paths: list[Path]) -> None:
        """Choose ``paths`` in the file input at ``selector``, as a user picking them does."""
        root = await self.send("DOM.getDocument")
        node = await self.send("DOM.querySelector", nodeId=root["root"]["nodeId"],
                               selector=selector)
        await self.send("DOM.setFileInputFiles", nodeId=node["nodeId"],
                        files=[str(p) for p in paths])

    async def screenshot(self, path: Path) -> None:
        res = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(res["data"]))
