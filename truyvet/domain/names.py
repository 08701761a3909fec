"""Vietnamese names as people type them: with or without diacritics, in any case.

"ca phe tam giang", "Cà Phê Tam Giang" and "CÀ PHÊ TAM GIANG" are one name to a tracer
typing on a phone without a Vietnamese keyboard. :func:`fold` gives the form they share: no
tone or vowel marks, đ as d, lower case, words separated by one space. A name given by a user
is matched against the registered ones by that form, and the registered spelling is what the
system keeps and shows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")
_D = str.maketrans({"đ": "d", "Đ": "d"})  # a letter of its own, not d with a mark: NFD keeps it


def fold(text: str) -> str:
    """``text`` without diacritics, lower case, its words separated by single spaces."""
    plain = unicodedata.normalize("NFD", text.translate(_D))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _SPACES.sub(" ", plain).strip().casefold()


def slug(text: str) -> str:
    """``text`` folded to ASCII letters, digits and dashes, for file names."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


class Ambiguous(ValueError):
    """A name that folds to more than one registered name; ``candidates`` are those."""

    def __init__(self, given: str, candidates: list[str]) -> None:
        super().__init__(f"{given!r} could be any of {', '.join(candidates)}")
        self.candidates = candidates


def resolve(given: str, known: Iterable[str]) -> str | None:
    """The registered name that ``given`` is: itself when registered so, else the one name of
    ``known`` it folds to; None if none. Raises :class:`Ambiguous` when the folded form fits
    several (e.g. two districts differing only by a tone mark) and ``given`` is neither."""
    names = list(known)
    if given in names:
        return given
    key = fold(given)
    found = sorted({n for n in names if fold(n) == key})
    if len(found) > 1:
        raise Ambiguous(given, found)
    return found[0] if found else None
