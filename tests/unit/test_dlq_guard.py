"""The dead-letter guard trips on a share of refused inputs over a sliding window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truyvet.jobs.guard import DeadLetterGuard


def test_trips_above_the_share_with_enough_inputs() -> None:
    g = DeadLetterGuard(0.5, window=1000, min_inputs=100)
    assert g.observe(50, 50) is None  # too few inputs to judge
    reason = g.observe(100, 60)
    assert reason is not None and "110 of the last 150 inputs (73%)" in reason
    assert "TRUYVET_DLQ_MAX_SHARE" in reason


def test_old_batches_leave_the_window() -> None:
    g = DeadLetterGuard(0.5, window=1000, min_inputs=100)
    assert g.observe(400, 380) is not None
    for _ in range(3):
        g.observe(400, 0)  # healthy traffic pushes the bad batch out
    assert g.observe(400, 10) is None


def test_one_means_never() -> None:
    g = DeadLetterGuard(1.0, window=100, min_inputs=1)
    assert g.observe(1000, 1000) is None
    with pytest.raises(ValueError):
        DeadLetterGuard(0)


@given(st.lists(st.tuples(st.integers(1, 500), st.floats(0, 1)), min_size=1, max_size=60),
       st.floats(0.05, 0.95))
def test_trips_exactly_when_the_window_share_is_above_the_limit(batches, limit) -> None:
    g = DeadLetterGuard(limit, window=2000, min_inputs=200)
    seen: list[tuple[int, int]] = []
    for n, frac in batches:
        refused = int(n * frac)
        seen.append((n, refused))
        # the reference: drop oldest batches while the rest still fills the window
        while len(seen) > 1 and sum(x for x, _ in seen[1:]) >= 2000:
            seen.pop(0)
        total, bad = sum(x for x, _ in seen), sum(r for _, r in seen)
        expect = total >= 200 and bad / total > limit
        assert (g.observe(n, refused) is not None) == expect


def _records(partition: int, offsets: range) -> list[tuple[tuple[str, int], int]]:
    return [(("t", partition), o) for o in offsets]


def test_a_run_of_refusals_in_one_partition_trips_it_though_the_share_is_low() -> None:
    """One partition's producer gone wrong: 11 refusals in a row in partition 2, among plenty
    of good input in the others (a share of 10 %)."""
    g = DeadLetterGuard(0.5, max_consecutive=10, window=1000, min_inputs=10)
    good = _records(0, range(100))
    bad = _records(2, range(11))
    assert g.observe_records(good + bad[:10], set(bad[:10])) is None  # 10 in a row: the limit
    reason = g.observe_records(bad[10:], set(bad[10:]))
    assert reason is not None and "11 inputs in a row of t[2]" in reason
    assert "TRUYVET_DLQ_MAX_CONSECUTIVE" in reason


def test_an_accepted_input_ends_the_run_and_a_revoked_partition_forgets_it() -> None:
    g = DeadLetterGuard(1.0, max_consecutive=3, window=1000, min_inputs=1)
    run = _records(1, range(3))
    assert g.observe_records(run, set(run)) is None
    assert g.observe_records(_records(1, range(3, 4)), set()) is None  # accepted: run over
    more = _records(1, range(4, 7))
    assert g.observe_records(more, set(more)) is None  # three again, not six
    g.forget([("t", 1)])
    last = _records(1, range(7, 10))
    assert g.observe_records(last, set(last)) is None  # a new owner starts from nothing
    assert g.observe_records(_records(1, range(10, 11)), {(("t", 1), 10)}) is not None
    assert DeadLetterGuard(1.0).observe_records(last * 500, set(last)) is None  # 0: no limit


def test_a_resumed_guard_forgives_one_window_then_judges_again() -> None:
    """After `truyvet dlq resume`: the inputs that tripped it are read again and must be
    dead-lettered, not trip it again; what comes after a window is judged as before."""
    g = DeadLetterGuard(0.5, max_consecutive=5, window=100, min_inputs=10)
    bad = _records(0, range(100))
    assert g.observe_records(bad, set(bad)) is not None
    g.forgive()
    assert g.observe_records(bad, set(bad)) is None  # the same 100 again: forgiven
    more = _records(0, range(100, 120))
    reason = g.observe_records(more, set(more))
    assert reason is not None and "TRUYVET_DLQ_MAX_SHARE" in reason  # the window is over
