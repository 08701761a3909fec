"""Finding a venue in the registry as a tracer types it (pure).

A case declares "the Tam Giang cafe on Lê Lợi" and the tracer types ``ca phe tam giang`` or
``tam giang le loi``: every word typed must begin a word of the venue's name, address, ward or
district, diacritics and case aside (:func:`truyvet.domain.names.fold`). The best matches
come first:

0. the venue id itself;
1. the name, exactly;
2. the name, beginning with what was typed;
3. the name, containing what was typed as whole words;
4. every word typed beginning a word of the name;
5. every word typed beginning a word of the name, address, ward or district.

Ties go by name, then id. A venue's folded words are kept with it and made again only when
the registry replaces the venue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from truyvet.codec.venue import Venue
from truyvet.domain import names


@dataclass(frozen=True, slots=True)
class _Folded:
    venue: Venue  # the record these words were made from (a replaced venue is folded again)
    name: str
    name_words: tuple[str, ...]
    words: tuple[str, ...]  # of the name, address, ward and district


def _fold(v: Venue) -> _Folded:
    name = names.fold(v.name)
    words = " ".join((name, names.fold(v.address), names.fold(v.ward), names.fold(v.district)))
    return _Folded(v, name, tuple(name.split()), tuple(words.split()))


def _begins_a_word(token: str, words: tuple[str, ...]) -> bool:
    return any(w.startswith(token) for w in words)


def _rank(f: _Folded, phrase: str, tokens: list[str], raw: str) -> int | None:
    if f.venue.venue_id.casefold() == raw:
        return 0
    if f.name == phrase:
        return 1
    if f.name.startswith(phrase):
        return 2
    if f" {phrase} " in f" {f.name} ":
        return 3
    if all(_begins_a_word(t, f.name_words) for t in tokens):
        return 4
    if all(_begins_a_word(t, f.words) for t in tokens):
        return 5
    return None


class VenueSearch:
    """Search over a registry that changes: the folded words of each venue are cached."""

    def __init__(self) -> None:
        self._folded: dict[str, _Folded] = {}

    def search(self, venues: Iterable[Venue], query: str, district: str | None = None,
               limit: int = 20) -> list[Venue]:
        """The venues matching ``query`` (of ``district``, as registered, if given), best
        first, at most ``limit``. An empty query matches nothing."""
        phrase = names.fold(query)
        tokens = phrase.split()
        if not tokens:
            return []
        raw = query.strip().casefold()
        found: list[tuple[int, str, str, Venue]] = []
        seen = 0
        for v in venues:
            seen += 1
            if district is not None and v.district != district:
                continue
            f = self._folded.get(v.venue_id)
            if f is None or f.venue is not v:
                f = self._folded[v.venue_id] = _fold(v)
            rank = _rank(f, phrase, tokens, raw)
            if rank is not None:
                found.append((rank, f.name, v.venue_id, v))
        if len(self._folded) > 2 * seen + 1000:  # venues deleted from the registry
            self._folded.clear()
        found.sort(key=lambda hit: hit[:3])
        return [hit[3] for hit in found[:limit]]
