"""A case's next revision and its gap events (pure), and which standing cases a change of
visits affects: the decisions the tracer service only carries out."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from truyvet.codec.itinerary import Itinerary, Stop
from truyvet.domain.matching.index import VisitIndex
from truyvet.domain.matching.matcher import encode_result, match
from truyvet.domain.matching.revisions import Case, next_revision
from truyvet.domain.matching.rules import DAY_S, MatchRules
from truyvet.domain.matching.standing import StandingCases

T0 = 1_800_000_000 - 1_800_000_000 % DAY_S + 10 * 3600  # 10:00 UTC on some day
RULES = MatchRules()
IT = Itinerary("BN-1", "F0", "card-me",
               (Stop("CAFE", T0 * 1000, (T0 + 3600) * 1000),
                Stop("BAR", (T0 + 7200) * 1000, (T0 + 9000) * 1000)), T0 * 1000, "lan")


def _index(*visits: tuple[str, str, int, int]) -> VisitIndex:
    index = VisitIndex()
    index.apply((venue, start // DAY_S, card, [(start, end)]) for venue, card, start, end in visits)
    return index


def _next(index: VisitIndex, current: Case | None, it: Itinerary = IT, now_ms: int = 1,
          force: bool = False):  # type: ignore[no-untyped-def]
    return next_revision(current, current.result if current else None, it,
                         match(index, RULES, it), now_ms,
                         lambda r: encode_result(r, index, RULES.close_contact_s), force)


def test_a_first_answer_is_revision_one_and_flags_its_gaps() -> None:
    index = _index(("CAFE", "card-me", T0, T0 + 1800), ("CAFE", "other", T0, T0 + 600))
    rev = _next(index, None)
    assert rev.published and rev.case.result.revision == 1
    [gap] = rev.gaps  # BAR: declared, no scan of the card
    assert (gap.status, gap.venue_id, gap.card_id, gap.gap_id) == ("open", "BAR", "card-me",
                                                                   "BN-1/1/BAR")
    assert rev.case.flagged_at == {"BN-1/1/BAR": gap.flagged_at_ms}
    assert [s.verified for s in rev.case.result.stops] == [True, False]


def test_a_case_answered_without_its_last_result_comes_after_its_latest_revision() -> None:
    """An owner that answers a case before it holds the case's last result (a submission
    while the partition is being taken over, or a last result it cannot read) must number the
    new revision after the latest one published: a revision 1 again would be one every
    replica already holds, and kept out."""
    index = _index(("CAFE", "card-me", T0, T0 + 1800))
    fresh = next_revision(None, None, IT, match(index, RULES, IT), 1,
                          lambda r: encode_result(r, index, RULES.close_contact_s), True, 7)
    assert fresh.published and fresh.case.result.revision == 8
    first = _next(index, None)
    again = next_revision(first.case, first.case.result, IT, match(index, RULES, IT), 2,
                          lambda r: encode_result(r, index, RULES.close_contact_s), True, 0)
    assert again.case.result.revision == 2  # none published past its own: after its own


def test_the_same_answer_again_is_no_revision_unless_submitted() -> None:
    index = _index(("CAFE", "card-me", T0, T0 + 1800))
    first = _next(index, None)
    again = _next(index, first.case, now_ms=2)
    assert not again.published and again.case is first.case and again.gaps == ()
    submitted = _next(index, first.case, now_ms=3, force=True)
    assert submitted.published and submitted.case.result.revision == 2
    assert submitted.gaps == ()  # the gap is still open: nothing new to say about it


def test_a_late_scan_resolves_the_gap_keeping_when_it_was_flagged() -> None:
    index = _index(("CAFE", "card-me", T0, T0 + 1800))
    first = _next(index, None, now_ms=1000)
    index.apply([("BAR", (T0 + 7200) // DAY_S, "card-me", [(T0 + 7300, T0 + 8000)])])
    later = _next(index, first.case, now_ms=5000)
    assert later.published and later.case.result.revision == 2
    [resolved] = later.gaps
    assert (resolved.status, resolved.flagged_at_ms, resolved.resolved_at_ms) == \
        ("resolved", 1000, 5000)
    assert later.case.flagged_at == {}


def test_a_corrected_itinerary_without_the_card_withdraws_its_gaps_as_they_were_flagged() -> None:
    index = _index(("CAFE", "card-me", T0, T0 + 1800))
    first = _next(index, None, now_ms=1000)
    corrected = dataclasses.replace(IT, card_id=None)
    rev = _next(index, first.case, corrected, now_ms=2000, force=True)
    [withdrawn] = rev.gaps
    assert withdrawn.status == "resolved" and withdrawn.card_id == "card-me"  # the flagged one's
    assert [s.verified for s in rev.case.result.stops] == [None, None]


def test_standing_cases_affected_by_a_change_and_replaced_by_id() -> None:
    index = _index(("CAFE", "card-me", T0, T0 + 1800))
    cases = StandingCases()
    cases.put(_next(index, None).case)
    day = T0 // DAY_S
    assert cases.affected({("CAFE", day)}, RULES.tolerance_s, index.longest) == {"BN-1"}
    assert cases.affected({("CAFE", day + 2)}, RULES.tolerance_s, index.longest) == set()
    assert cases.affected({("MARKET", day)}, RULES.tolerance_s, index.longest) == set()
    moved = dataclasses.replace(IT, stops=(Stop("MARKET", T0 * 1000, (T0 + 60) * 1000),))
    cases.put(_next(index, None, moved).case)
    assert len(cases) == 1
    assert cases.affected({("CAFE", day)}, RULES.tolerance_s, index.longest) == set()
    assert cases.affected({("MARKET", day)}, RULES.tolerance_s, index.longest) == {"BN-1"}
    assert cases.expired(T0 + RULES.retention_s, RULES.retention_s) == ["BN-1"]


def _meets(it: Itinerary, venue: str, day: int, tolerance_s: int, longest: dict[str, int]) -> bool:
    """The rule as stated: a stop at the venue whose window (± tolerance) meets the bucket's
    day, reaching into the next by the venue's longest visit."""
    lo, hi = day * DAY_S, (day + 1) * DAY_S + longest.get(venue, 0)
    return any(s.venue_id == venue and s.from_ms // 1000 - tolerance_s <= hi
               and s.to_ms // 1000 + tolerance_s >= lo for s in it.stops)


_VENUES = ("CAFE", "BAR", "MARKET")


@st.composite
def _standing_and_changes(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    day0 = T0 // DAY_S
    near_midnight = st.sampled_from((0, 1, 1799, 1800, 1801, 10799, 10800, 10801))
    in_day = st.one_of(st.integers(0, DAY_S - 1), near_midnight,
                       near_midnight.map(lambda t: DAY_S - 1 - t))
    span = st.tuples(st.sampled_from(_VENUES),  # from: seconds after T0's day began
                     st.builds(lambda d, t: d * DAY_S + t, st.integers(-2, 4), in_day),
                     st.one_of(st.integers(0, 6 * 3600), st.integers(0, 2 * DAY_S)))
    steps = draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4),  # 0: dropped
                                    st.lists(span, min_size=1, max_size=4)),
                          min_size=3, max_size=25))
    changed = draw(st.sets(st.tuples(st.sampled_from((*_VENUES, "PARK")),
                                     st.integers(day0 - 3, day0 + 6)), min_size=1, max_size=6))
    longest = {v: draw(st.integers(0, 2 * DAY_S)) for v in _VENUES if draw(st.integers(0, 4))}
    return steps, changed, longest, draw(st.sampled_from((0, 1800, 1800, 3 * 3600)))


@settings(max_examples=500, deadline=None)
@given(_standing_and_changes())
def test_the_cases_a_change_affects_are_those_the_rule_names(case: tuple) -> None:
    """Cases put, replaced by a new version and dropped in any order: the affected ones are
    exactly those with a stop meeting a changed bucket, by the rule read plainly."""
    steps, changed, longest, tolerance_s = case
    index = VisitIndex()
    cases, now = StandingCases(), {}
    for n, kind, stops in steps:
        case_id = f"BN-{n}"
        if kind == 0:
            cases.drop(case_id)
            now.pop(case_id, None)
            continue
        day_began = T0 - T0 % DAY_S
        it = dataclasses.replace(IT, case_id=case_id, stops=tuple(
            Stop(v, (day_began + f) * 1000, (day_began + f + d) * 1000) for v, f, d in stops))
        cases.put(_next(index, None, it).case)
        now[case_id] = it
    expected = {cid for cid, it in now.items()
                if any(_meets(it, v, day, tolerance_s, longest) for v, day in changed)}
    assert cases.affected(changed, tolerance_s, longest) == expected
    assert len(cases) == len(now)


def test_a_published_results_head_read_alone_says_what_decoding_it_whole_says() -> None:
    """What a replica given a case reads of its last revision before deciding it still holds
    (``match_result.head``): the revision and time the whole decode gives, for results this
    encoder wrote; None for one written otherwise (then it is decoded whole)."""
    import orjson

    from truyvet.codec import match_result as match_result_codec
    from truyvet.settings import ROOT

    index = _index(("CAFE", "card-me", T0, T0 + 1800), ("CAFE", "other", T0, T0 + 1200),
                   ("BAR", "third", T0 + 7000, T0 + 9000))
    raw = _next(index, None, now_ms=1_800_000_123_456).case.json
    whole = match_result_codec.decode(raw)
    assert match_result_codec.head(raw) == (whole.revision, whole.computed_at_ms) \
        == (1, 1_800_000_123_456)
    for path in (ROOT / "schemas" / "examples" / "match-result.v1").glob("valid-*.json"):
        example = path.read_bytes()
        whole = match_result_codec.decode(example)
        assert match_result_codec.head(match_result_codec.encode(whole)) == (
            whole.revision, whole.computed_at_ms)
        spaced = orjson.dumps(orjson.loads(example), option=orjson.OPT_INDENT_2)
        assert match_result_codec.head(spaced) is None
