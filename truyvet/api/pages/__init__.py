"""What the API's pages for people share (``static/``: ``page.js``, ``page.css``), served at
``/pages/``: the token taken from the URL's fragment and kept for the tab only, the API call
that asks for it again on 401, the words of the page's language from ``/api/v1/labels``,
numbers and Vietnam time in that language, and the page's look. The operations room's
dashboard (``truyvet.api.dashboard``), the tracer workbench (``truyvet.api.workbench``) and the
inspector's page (``truyvet.api.inspector``) are built on it; none loads anything from outside
the API. Each page is mounted with :func:`mount`: ``/name`` redirects to ``/name/``, which
serves the page's ``index.html``; its other files follow."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
PREFIX = "/pages/"


def add(app: web.Application) -> None:
    app.router.add_static(PREFIX, STATIC, append_version=False)


def mount(app: web.Application, at: str, static: Path) -> None:
    """The page in ``static`` at ``at`` (e.g. ``/workbench``): public, as its files are."""

    async def to_page(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{at}/")

    async def page(request: web.Request) -> web.FileResponse:
        # never cached: its scripts change with the API
        return web.FileResponse(static / "index.html", headers={"Cache-Control": "no-cache"})

    app.router.add_get(at, to_page)
    app.router.add_get(f"{at}/", page)
    app.router.add_static(f"{at}/", static, append_version=False)
