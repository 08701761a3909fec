"""Small helpers for click options that mirror environment variables."""

from __future__ import annotations

import re
import time
from typing import Any

import click

from truyvet.codec.errors import InvalidEvent
from truyvet.codec.timefmt import parse_ms


def env_option(flag: str, envvar: str, name: str | None = None, **kwargs: Any) -> Any:
    """``click.option`` that reads ``envvar`` and shows it in ``--help``.

    Usage: ``@env_option("--rate", "TRUYVET_SIM_RATE", default=0.0, help=...)``; ``name``
    sets the parameter's name when it differs from the flag's.
    """
    kwargs.setdefault("show_default", True)
    decls = [flag] if name is None else [flag, name]
    return click.option(*decls, envvar=envvar, show_envvar=True, **kwargs)


_RELATIVE = re.compile(r"([+-]?)(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class InstantType(click.ParamType):
    """An instant: RFC 3339 with offset, ``now``, or relative to now like ``-6h`` / ``+30m``.
    Converted to epoch milliseconds."""

    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text == "now":
            return int(time.time() * 1000)
        m = _RELATIVE.fullmatch(text)
        if m:
            sign = -1 if m.group(1) == "-" else 1
            return int((time.time() + sign * float(m.group(2)) * _UNIT_S[m.group(3)]) * 1000)
        try:
            return parse_ms(text, param.name if param else "time")
        except InvalidEvent as exc:
            self.fail(f"{exc.detail}; use RFC 3339, 'now' or e.g. -6h", param, ctx)


INSTANT = InstantType()
