"""The operations room's figures from samples of Kafka's offsets (pure)."""

from __future__ import annotations

from truyvet.api.dashboard.ops import Sample, summarise


def _s(at: float, scans: int, lag: int) -> Sample:
    return Sample(at, {"checkins": scans, "deadletter": 0}, {"ingest": lag, "visits": 0})


def test_rates_are_differences_over_the_window() -> None:
    samples = [_s(0, 0, 0), _s(2, 100, 10), _s(4, 300, 40), _s(14, 1300, 0)]
    out = summarise(samples, window_s=10)
    assert out["totals"]["checkins"] == 1300
    assert out["rates"]["checkins"] == 100.0  # (1300 - 300) / 10 s: the oldest sample within 10 s
    assert [p["scans_per_s"] for p in out["series"]] == [50.0, 100.0, 100.0]
    assert [p["lag"] for p in out["series"]] == [10, 40, 0]
    assert out["lag_total"] == 0 and out["drain_s"] is None


def test_drain_time_is_lag_over_input_rate() -> None:
    out = summarise([_s(0, 0, 0), _s(2, 200, 500)])
    assert out["rates"]["checkins"] == 100.0 and out["drain_s"] == 5.0


def test_a_topic_recreated_smaller_does_not_give_negative_rates() -> None:
    assert summarise([_s(0, 500, 0), _s(1, 100, 0)])["rates"]["checkins"] == 0.0


def test_one_sample_has_totals_but_no_rate_yet() -> None:
    out = summarise([_s(5, 10, 3)])
    assert out["rates"]["checkins"] is None and out["totals"]["checkins"] == 10
    assert summarise([])["totals"] == {}


def test_the_views_of_the_latest_sample_are_reported() -> None:
    old = Sample(0, {"checkins": 0}, {}, {"api-index": 500})
    new = Sample(2, {"checkins": 10}, {}, {"api-index": 3, "registry": None})
    assert summarise([old, new])["views"] == {"api-index": 3, "registry": None}
    assert summarise([])["views"] == {}
