"""Run the benchmarks named on the command line (default: all), printing each figure."""

from __future__ import annotations

import importlib
import sys

ALL = ["codec", "steps", "publish", "consumers", "index", "redis_layouts", "ingest", "serving", "restart", "scale",
       "load"]


def main(argv: list[str]) -> None:
    for name in argv or ALL:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}", flush=True)
        module.main()


main(sys.argv[1:])
