"""Benchmarks: figures for docs/benchmarks.md. Run with ``make bench`` (or
``python -m bench [name ...]``); never part of the test run."""
