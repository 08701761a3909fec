"""Venue search as a tracer types it: without diacritics, words in any order, best first.
Checked against a reference written apart: its own table of Vietnamese letters and a plain
"every typed word begins a word" scan."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_names import MARKED
from truyvet.codec.venue import Venue
from truyvet.domain.venue_search import VenueSearch

BARE = {m: b for b, ms in MARKED.items() for m in ms + ms.upper()} | {"Đ": "d"}


def ref_words(text: str) -> list[str]:
    return "".join(BARE.get(c, c) for c in text).lower().split()


def ref_matches(v: Venue, query: str) -> bool:
    typed = ref_words(query)
    words = ref_words(" ".join((v.name, v.address, v.ward, v.district)))
    return bool(typed) and all(any(w.startswith(t) for w in words) for t in typed)


def venue(venue_id: str, name: str, address: str = "", ward: str = "Phường Phú Hội",
          district: str = "Thành phố Huế") -> Venue:
    return Venue(venue_id, name, district, ward, "cafe", {}, 1, 2, address)


REGISTRY = [
    venue("V-TG2", "Cà phê Tam Giang 2", "12 Lê Lợi"),
    venue("V-QTG", "Quán Tam Giang", "3 Trần Hưng Đạo"),
    venue("V-TG", "Cà phê Tam Giang", "40 Lê Lợi"),
    venue("V-LL", "Nhà hàng Lê Lợi", "1 Hùng Vương"),
    venue("V-CH", "Chợ Đông Ba", "2 Trần Hưng Đạo", "Phường Đông Ba"),
    venue("V-AL", "Cà phê Tam Giang", "Quốc lộ 49", "Thị trấn A Lưới", "Huyện A Lưới"),
]


def ids(found: list[Venue]) -> list[str]:
    return [v.venue_id for v in found]


def test_typed_without_diacritics_the_venue_comes_first() -> None:
    s = VenueSearch()
    assert ids(s.search(REGISTRY, "ca phe tam giang")) == ["V-AL", "V-TG", "V-TG2"]
    assert ids(s.search(REGISTRY, "ca phe tam giang", district="Thành phố Huế")) == \
        ["V-TG", "V-TG2"]
    # the name exactly, then beginning with it, then containing it, then its words anywhere
    assert ids(s.search(REGISTRY, "tam giang")) == ["V-AL", "V-TG", "V-TG2", "V-QTG"]
    assert ids(s.search(REGISTRY, "quan tam")) == ["V-QTG"]
    assert ids(s.search(REGISTRY, "giang tam")) == ["V-AL", "V-TG", "V-TG2", "V-QTG"]
    assert ids(s.search(REGISTRY, "TAM GIANG le loi")) == ["V-TG", "V-TG2"]  # the address
    assert ids(s.search(REGISTRY, "cho dong")) == ["V-CH"]
    assert ids(s.search(REGISTRY, "dong ba")) == ["V-CH"]
    assert ids(s.search(REGISTRY, "Chợ Đông Ba")) == ["V-CH"]
    assert ids(s.search(REGISTRY, "v-ll")) == ["V-LL"]  # its id, as printed on a poster
    assert ids(s.search(REGISTRY, "le loi")) == ["V-LL", "V-TG", "V-TG2"]
    assert s.search(REGISTRY, "  ") == [] and s.search(REGISTRY, "pho bo") == []
    assert ids(s.search(REGISTRY, "tam giang", limit=1)) == ["V-AL"]
    assert ids(s.search(REGISTRY, "ca phe tam giang 2")) == ["V-TG2"]  # exactly: first


def test_a_venue_replaced_in_the_registry_is_found_by_its_new_name() -> None:
    s = VenueSearch()
    assert ids(s.search(REGISTRY, "tam giang")) != []
    renamed = [venue("V-QTG", "Quán Hương Giang") if v.venue_id == "V-QTG" else v
               for v in REGISTRY]
    assert "V-QTG" not in ids(s.search(renamed, "tam giang"))
    assert ids(s.search(renamed, "huong giang")) == ["V-QTG"]


WORDS = ["Cà", "phê", "Tam", "Giang", "Lê", "Lợi", "Chợ", "Đông", "Ba", "Hương", "Thủy",
         "quán", "bún", "bò", "Huế", "A", "Lưới"]
names_ = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(names_, names_), min_size=1, max_size=12),
       st.lists(st.sampled_from(WORDS + ["ca", "phe", "giang", "dong", "huong", "th", "l"]),
                min_size=1, max_size=3).map(" ".join))
def test_what_is_found_is_what_the_reference_finds(named: list[tuple[str, str]],
                                                    query: str) -> None:
    registry = [venue(f"V{i}", n, a) for i, (n, a) in enumerate(named)]
    found = VenueSearch().search(registry, query, limit=1000)
    assert sorted(ids(found)) == sorted(v.venue_id for v in registry if ref_matches(v, query))
