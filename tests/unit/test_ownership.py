"""Case ownership (pure): who may replace, read and share a case, and when a case's retention
starts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from truyvet.codec import itinerary as itinerary_codec
from truyvet.codec.itinerary import MAX_SHARED, Itinerary, Stop
from truyvet.domain.matching.ownership import (Caller, Outcome, may_see, may_share, shared,
                                               submit)

T0, T1 = 1_700_000_000_000, 1_700_000_900_000
STOPS = (Stop("V1", T0 - 3_600_000, T0 - 1_800_000),)
BODY = Itinerary("case-1", "F1", "card-9", STOPS)
TRACER, SUPERVISOR = frozenset({"tracer"}), frozenset({"supervisor"})


def opened() -> Itinerary:
    done = submit(None, BODY, "lan", T0)
    assert done.outcome is Outcome.OPENED and done.itinerary is not None
    return done.itinerary


def test_the_principal_who_opens_a_case_owns_it_and_its_retention_starts_then() -> None:
    it = opened()
    assert (it.opened_by, it.submitted_by, it.submitted_at_ms, it.shared_with) == \
        ("lan", "lan", T0, ())
    assert it.owner == "lan" and (it.stops, it.card_id) == (BODY.stops, BODY.card_id)


def test_an_identical_submission_changes_nothing_and_keeps_the_retention() -> None:
    it = opened()
    done = submit(it, BODY, "lan", T1)
    assert done.outcome is Outcome.UNCHANGED and done.itinerary is None and done.previous is it


@pytest.mark.parametrize("by", ["minh", "hoa-supervisor", "admin"])
def test_nobody_but_the_owner_replaces_a_case(by: str) -> None:
    it = opened()
    other = replace(BODY, stops=(Stop("V2", T0 - 600_000, T0),))
    done = submit(it, other, by, T1)
    assert done.outcome is Outcome.NOT_OWNER and done.itinerary is None


def test_new_stops_are_a_new_version_whose_retention_starts_again() -> None:
    it = shared(opened(), "minh")
    new = replace(BODY, stops=(Stop("V2", T0 - 600_000, T0),))
    done = submit(it, new, "lan", T1)
    assert done.outcome is Outcome.REPLACED and done.previous is it
    assert done.itinerary == replace(new, submitted_at_ms=T1, submitted_by="lan",
                                     opened_by="lan", shared_with=("minh",))


def test_a_new_classification_with_the_same_stops_keeps_the_retention() -> None:
    it = opened()
    done = submit(it, replace(BODY, classification="F0"), "lan", T1)
    assert done.outcome is Outcome.REPLACED
    assert done.itinerary is not None and done.itinerary.classification == "F0"
    assert done.itinerary.submitted_at_ms == T0


def test_a_record_from_before_owners_were_kept_belongs_to_its_submitter() -> None:
    legacy = Itinerary("case-1", "F1", "card-9", STOPS, T0, "lan")
    assert legacy.owner == "lan"
    assert submit(legacy, replace(BODY, classification="F0"), "minh", T1).outcome is \
        Outcome.NOT_OWNER


def test_who_may_see_a_case() -> None:
    it = opened()
    assert may_see(it, Caller("lan", TRACER))
    assert not may_see(it, Caller("minh", TRACER))
    assert may_see(shared(it, "minh"), Caller("minh", TRACER))
    assert may_see(it, Caller("hoa", SUPERVISOR)) and may_see(it, Caller("root", frozenset({"admin"})))
    assert not may_see(it, Caller("noc", frozenset({"ops", "inspector"})))
    assert may_share(SUPERVISOR) and not may_share(TRACER)


def test_when_teams_own_cases_any_tracer_of_the_team_stands_for_the_owner() -> None:
    lan, minh = Caller("lan", TRACER, "phu-vang"), Caller("minh", TRACER, "phu-vang")
    other_team, no_team = Caller("an", TRACER, "a-luoi"), Caller("binh", TRACER, None)
    done = submit(None, BODY, lan, T0)
    it = done.itinerary
    assert it is not None and (it.opened_by, it.team) == ("lan", "phu-vang")
    assert may_see(it, minh) and not may_see(it, other_team) and not may_see(it, no_team)
    new = replace(BODY, stops=(Stop("V2", T0 - 600_000, T0),))
    replaced = submit(it, new, minh, T1)  # a teammate replaces it: still the team's case
    assert replaced.outcome is Outcome.REPLACED and replaced.itinerary is not None
    assert (replaced.itinerary.opened_by, replaced.itinerary.team,
            replaced.itinerary.submitted_by) == ("lan", "phu-vang", "minh")
    assert submit(it, new, other_team, T1).outcome is Outcome.NOT_OWNER
    # a tracer without a team owns alone, as when tracers own cases
    alone = submit(None, BODY, no_team, T0).itinerary
    assert alone is not None and alone.team is None and not may_see(alone, minh)


def test_sharing_adds_a_principal_once_up_to_what_a_record_holds() -> None:
    it = opened()
    once = shared(it, "minh")
    assert once.shared_with == ("minh",) and shared(once, "minh") is once
    assert shared(it, "lan") is it  # its owner sees it already
    full = it
    for i in range(MAX_SHARED):
        full = shared(full, f"p{i}")
    with pytest.raises(ValueError, match=str(MAX_SHARED)):
        shared(full, "one-more")
    # and the record, owner and shares, survives the topic's codec
    assert itinerary_codec.decode(itinerary_codec.encode(full)) == full
