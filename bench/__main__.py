"""Run the benchmarks named on the command line (default: all), printing each figure."""

from __future__ import annotations

import faulthandler
import importlib
import sys

from bench import children

ALL = ["codec", "steps", "publish", "consumers", "index", "redis_layouts", "ingest", "serving", "restart", "scale",
       "load"]


def main(argv: list[str]) -> None:
    # a crash in native code says where: one of five runs of `bench ingest` on 2026-12-06
    # (of the tree before that day's changes) died of SIGSEGV with no trace, after publishing,
    # before its first figure; issue 13 reported a run that ended without its figures
    faulthandler.enable()
    children.stop_on_sigterm()
    for name in argv or ALL:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}", flush=True)
        module.main()


main(sys.argv[1:])
