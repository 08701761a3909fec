"""The visit builders a test runs against: the Python reference and the compiled one
(``native/``). The compiled one must be installed where the tests run (``deploy/setup.sh``
builds it); a missing one fails the tests rather than skipping them."""

from __future__ import annotations

import pytest

from truyvet.codec.visits import Bucket
from truyvet.domain.matching import visit_builder
from truyvet.domain.matching.visit_builder import VisitBuilder


def compiled(dwell, retention_s):  # type: ignore[no-untyped-def]
    if visit_builder.compiled is None:
        pytest.fail("the compiled visit builder (truyvet_native) is not installed: run "
                    "deploy/setup.sh, which builds native/ with cargo")
    return visit_builder.compiled.VisitBuilder(dwell, retention_s, Bucket)


BUILDERS = pytest.mark.parametrize("builder_type", [VisitBuilder, compiled],
                                   ids=["python", "compiled"])


def native_core():  # type: ignore[no-untyped-def]
    """The compiled core itself (its functions other than the builder)."""
    compiled(None, 0)  # fails the test, saying so, when it is not built
    return visit_builder.compiled
