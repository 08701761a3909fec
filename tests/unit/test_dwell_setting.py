"""TRUYVET_DWELL_MINUTES: one dwell for every venue by default, or one per venue category of
the registry; a category the registry does not know, or a length that is not a number of
minutes, is refused at start in one sentence. (That the visits use it, through the registry's
categories: ``tests/suites/job_suite.py``, per-category dwell.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from truyvet.codec.venue import CATEGORIES
from truyvet.domain.matching.rules import ConstantDwell, parse_dwell
from truyvet.settings import Settings, SettingsError


def test_one_dwell_of_60_minutes_for_every_venue_by_default(tmp_path: Path) -> None:
    rules = Settings.from_env(env={}, data_dir=tmp_path).rules()
    assert (rules.default_dwell_s, rules.dwell_by_category_s) == (3600, {})
    dwell = rules.dwell_function(lambda venue: "office")
    assert isinstance(dwell, ConstantDwell) and dwell("V1") == 3600


def test_a_province_sets_a_dwell_per_category() -> None:
    assert parse_dwell("60,office=540,hotel=720,school=300") == (
        3600, {"office": 540 * 60, "hotel": 720 * 60, "school": 300 * 60})
    assert parse_dwell(" 45 , cafe = 30 ") == (45 * 60, {"cafe": 30 * 60})
    assert parse_dwell("default=90,bar=120") == (90 * 60, {"bar": 120 * 60})
    assert parse_dwell("office=540") == (3600, {"office": 540 * 60})  # default stays 60


def test_the_category_of_the_venue_decides_and_an_unknown_venue_gets_the_default(
        tmp_path: Path) -> None:
    rules = Settings.from_env(env={"TRUYVET_DWELL_MINUTES": "60,office=540"},
                              data_dir=tmp_path).rules()
    categories = {"VO": "office", "VC": "cafe"}
    dwell = rules.dwell_function(categories.get)
    assert (dwell("VO"), dwell("VC"), dwell("not-registered")) == (540 * 60, 3600, 3600)


@pytest.mark.parametrize("spec, says", [
    ("60,offce=540", "'offce' is not a venue category: one of bar, cafe, "),
    ("60,Office=540", "'Office' is not a venue category"),
    ("60,office=abc", "the dwell of office must be a positive number of minutes, not 'abc'"),
    ("60,office=", "the dwell of office must be a positive number of minutes, not ''"),
    ("sixty", "the dwell of the default must be a positive number of minutes, not 'sixty'"),
    ("0", "the dwell of the default must be a positive number of minutes, not '0'"),
    ("60,hotel=-5", "the dwell of hotel must be a positive number of minutes, not '-5'"),
    ("60,hotel=inf", "the dwell of hotel must be a positive number of minutes, not 'inf'"),
    ("60,hotel=nan", "the dwell of hotel must be a positive number of minutes, not 'nan'"),
    ("60,office=540,office=600", "office is given twice"),
])
def test_a_dwell_that_cannot_apply_is_refused_in_one_sentence(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(says)):
        parse_dwell(spec)


def test_the_refusal_names_every_category_the_registry_allows() -> None:
    with pytest.raises(ValueError) as refused:
        parse_dwell("60,offce=540")
    assert all(name in str(refused.value) for name in CATEGORIES)


def test_a_misspelt_category_is_refused_at_start_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^TRUYVET_DWELL_MINUTES='60,offce=540': 'offce' "
                                            r"is not a venue category"):
        Settings.from_env(env={"TRUYVET_DWELL_MINUTES": "60,offce=540"}, data_dir=tmp_path)
    with pytest.raises(SettingsError, match="TRUYVET_DWELL_MINUTES='60,office=abc': the dwell"):
        Settings.from_env(env={}, data_dir=tmp_path, dwell_minutes="60,office=abc")

