"""The visit builders a test runs against: the Python reference and the compiled one
(``native/``). The compiled one must be installed where the tests run (``deploy/setup.sh``
builds it); a missing one fails the tests rather than skipping them. And what a visit index
holds, read from its arrays (:func:`live_rows`)."""

from __future__ import annotations

import pytest

from truyvet.codec.visits import Bucket
from truyvet.domain.matching import visit_builder
from truyvet.domain.matching.index import DEAD, VisitIndex
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


def live_rows(index: VisitIndex) -> list[tuple[str, int, str, int, int]]:
    """Every visit ``index``'s buckets hold, as (venue, day, card id, start, end), sorted:
    read from the arrays, each row not deleted, without matching."""
    return sorted((venue, day, index.card_names[c], s, e)
                  for (venue, day), b in index.buckets.items()
                  for c, s, e in zip(b.cards[:b.size].tolist(), b.starts[:b.size].tolist(),
                                     b.ends[:b.size].tolist(), strict=True) if c != DEAD)
