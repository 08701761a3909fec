"""Chains of transmission (F1, F2, …) from the visit index against a brute-force reference."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from tests.reference import reference_chain
from truyvet.codec.itinerary import Itinerary, Stop
from truyvet.domain.matching.chains import chain
from truyvet.domain.matching.index import VisitIndex

DAY = 86_400
T0 = 1_638_748_800  # 2021-12-06T00:00:00Z


def _index(visits: list[tuple[str, str, int, int]]) -> VisitIndex:
    buckets: dict[tuple[str, int, str], list[tuple[int, int]]] = defaultdict(list)
    for card, venue, s, e in visits:
        buckets[(venue, s // DAY, card)].append((s, e))
    index = VisitIndex()
    index.apply([(v, d, c, sorted(vs)) for (v, d, c), vs in buckets.items()])
    return index


def _world(seed: int) -> list[tuple[str, str, int, int]]:
    rng = random.Random(seed)
    visits = []
    for c in range(60):
        for _ in range(rng.randint(1, 6)):
            s = T0 + rng.randrange(3 * DAY // 600) * 600
            visits.append((f"card-{c:02d}", f"V{rng.randrange(5)}", s, s + rng.randint(5, 180) * 60))
    return visits


@pytest.mark.parametrize("seed", range(6))
def test_rings_equal_the_brute_force_reference(seed: int) -> None:
    visits = _world(seed)
    index = _index(visits)
    rng = random.Random(seed)
    case_card = "card-00"
    mine = [v for v in visits if v[0] == case_card]
    stops = [(v, s, e) for _, v, s, e in mine] + [(f"V{rng.randrange(5)}", T0 + DAY, T0 + DAY + 7200)]
    it = Itinerary("BN-1", "F0", case_card, tuple(Stop(v, s * 1000, e * 1000) for v, s, e in stops))
    got = chain(index, it, 900, 3)
    expected = reference_chain(visits, case_card, stops, 900, 3)
    assert [{lk.card: (lk.exposed_at_s, lk.via, lk.venue_id, lk.overlap_s) for lk in ring}
            for ring in got.rings] == expected
    assert not got.truncated and len(got.rings) == 3  # every ring reached


def test_an_f2_is_met_after_the_exposure_never_before_it_and_listed_once() -> None:
    h = 3600
    visits = [("case", "cafe", T0, T0 + h),            # the case at the cafe
              ("f1", "cafe", T0 + 600, T0 + h),         # met the case for 50 minutes
              ("f2", "bar", T0 + 2 * h, T0 + 3 * h),    # f1 went to the bar later: f2 met there
              ("f1", "bar", T0 + 2 * h + 300, T0 + 3 * h),
              ("early", "shop", T0 - 3 * h, T0 - 2 * h),  # f1 before meeting the case: no F2
              ("f1", "shop", T0 - 3 * h, T0 - 2 * h),
              ("brief", "bar", T0 + 2 * h, T0 + 2 * h + 600),  # 10 minutes only: not close
              ("case", "bar", T0 + 2 * h, T0 + 3 * h)]  # the case there too: an F1, not an F2
    it = Itinerary("BN-1", "F0", "case", (Stop("cafe", T0 * 1000, (T0 + h) * 1000),))
    got = chain(_index(visits), it, 900, 3)
    assert [[(lk.card, lk.via, lk.venue_id, lk.exposed_at_s, lk.overlap_s) for lk in ring]
            for ring in got.rings] == [[("f1", None, "cafe", T0 + 600, 3000)],
                                       [("f2", "f1", "bar", T0 + 2 * h + 300, 3300)]]
    assert len(chain(_index(visits), it, 900, 1).rings) == 1


def test_a_ring_too_large_to_expand_is_counted_and_said() -> None:
    visits = [("case", "cafe", T0, T0 + 3600)] + [
        (f"c{i}", "cafe", T0, T0 + 3600) for i in range(20)] + [
        (f"c{i}", "bar", T0 + 7200, T0 + 9000) for i in range(20)] + [("x", "bar", T0 + 7200, T0 + 9000)]
    it = Itinerary("BN-1", "F0", "case", (Stop("cafe", T0 * 1000, (T0 + 3600) * 1000),))
    got = chain(_index(visits), it, 900, 2, max_expanded=10)
    assert len(got.rings) == 1 and len(got.rings[0]) == 20 and got.truncated
    assert [lk.card for lk in chain(_index(visits), it, 900, 2).rings[1]] == ["x"]
    with pytest.raises(ValueError):
        chain(_index(visits), it, 900, 0)
