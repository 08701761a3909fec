"""Names typed with or without diacritics are one name; the registered spelling is kept."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truyvet.domain import names

# the 67 marked letters of Vietnamese (134 with capitals) and their bare letter, written out
MARKED = {
    "a": "àáảãạăằắẳẵặâầấẩẫậ", "e": "èéẻẽẹêềếểễệ", "i": "ìíỉĩị",
    "o": "òóỏõọôồốổỗộơờớởỡợ", "u": "ùúủũụưừứửữự", "y": "ỳýỷỹỵ", "d": "đ",
}


@pytest.mark.parametrize("bare, marked", [(b, m) for b, ms in MARKED.items() for m in ms])
def test_every_vietnamese_letter_folds_to_its_bare_letter(bare: str, marked: str) -> None:
    assert names.fold(marked) == bare
    assert names.fold(marked.upper()) == bare
    decomposed = unicodedata.normalize("NFD", marked)  # as some keyboards send it
    assert names.fold(decomposed) == bare


def test_folding_known_names() -> None:
    assert names.fold("Cà phê Tam Giang") == "ca phe tam giang"
    assert names.fold("  Thành phố   Huế\t") == "thanh pho hue"
    assert names.fold("ĐƯỜNG Lê Lợi") == "duong le loi"
    assert names.slug("Thị xã Hương Thủy") == "thi-xa-huong-thuy"


@given(st.text())
def test_fold_is_idempotent_and_has_no_marks(text: str) -> None:
    once = names.fold(text)
    assert names.fold(once) == once
    assert not any(unicodedata.combining(c) for c in once)


DISTRICTS = ["Thành phố Huế", "Huyện A Lưới", "Thị xã Hương Thủy"]


def test_resolve_gives_the_registered_spelling() -> None:
    assert names.resolve("Thành phố Huế", DISTRICTS) == "Thành phố Huế"
    assert names.resolve("thanh pho hue", DISTRICTS) == "Thành phố Huế"
    assert names.resolve("HUYEN A LUOI", DISTRICTS) == "Huyện A Lưới"
    assert names.resolve("thi xa huong thuy ", DISTRICTS) == "Thị xã Hương Thủy"
    assert names.resolve("Huyện Nam Đông", DISTRICTS) is None


def test_a_name_that_folds_to_two_registered_ones_is_refused_unless_exact() -> None:
    known = ["Phường Phú Hội", "Phường Phú Hòa"]  # differ by more than marks: not ambiguous
    assert names.resolve("phuong phu hoi", known) == "Phường Phú Hội"
    twins = ["Thôn Hà", "Thôn Hạ"]  # the same letters, different tones
    with pytest.raises(names.Ambiguous) as refused:
        names.resolve("thon ha", twins)
    assert refused.value.candidates == sorted(twins)
    assert names.resolve("Thôn Hạ", twins) == "Thôn Hạ"
