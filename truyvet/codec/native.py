"""The compiled core (``native/``: Rust, built into the virtualenv by ``deploy/native.sh``),
or None when it is not built. What it holds -- the visit builder, the ingest job's reading of
check-ins -- each has its Python reference, which runs in its place without it and which the
tests hold it to (tests/unit/test_native_builder.py, test_fast_paths.py)."""

from __future__ import annotations

from types import ModuleType

core: ModuleType | None
try:
    import truyvet_native as core
except ImportError:  # not built (no Rust toolchain): the Python references run
    core = None
