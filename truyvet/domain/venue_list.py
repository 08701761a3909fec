"""The venue registry from the province's list (pure): name, address, ward, district, category.

A province's list of venues says where they are and what they are, rarely when they open,
how many entrances they scan at or who scans. :func:`from_list` makes a registry record of
a row of such a list, assuming what it does not give -- opening hours by category
(:data:`DEFAULT_HOURS`), one scanning point, one member of staff scanning (the directive's
least: staff scan at every entrance) -- and saying which fields it assumed
(``Venue.assumed``), so that the report can list the venues whose records are to be completed.
A row without a ``venue_id`` gets one made from its district, ward, name and address (folded:
diacritics, case and spacing aside), so importing the list again replaces the same records.
The category is its code (``cafe``), its Vietnamese or English name in the report, or a word
lists use for it (:data:`CATEGORY_WORDS`), with or without diacritics ("Quán cà phê",
"quan ca phe", "Nhà hàng", "Cafes").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from truyvet.codec import venue as venue_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.venue import CATEGORIES, Venue
from truyvet.domain.names import fold

# Local time. Assumptions to be replaced by what the venue declares, chosen to be typical of
# the category in Thừa Thiên Huế; a venue's record says they were assumed.
DEFAULT_HOURS: dict[str, str] = {
    "cafe": "mon-sun 06:00-22:00",
    "restaurant": "mon-sun 09:00-22:00",
    "bar": "mon-sun 16:00-24:00",
    "market": "mon-sun 05:00-18:00",
    "supermarket": "mon-sun 08:00-22:00",
    "office": "mon-fri 07:00-17:00",
    "school": "mon-sat 07:00-17:00",
    "hospital": "mon-sun 00:00-24:00",
    "hotel": "mon-sun 00:00-24:00",
    "gym": "mon-sun 05:00-21:00",
    "worship": "mon-sun 05:00-20:00",
    "other": "mon-sun 07:00-21:00",
}
# the words a province's list uses for its categories, besides the report's names (folded)
CATEGORY_WORDS: dict[str, str] = {
    "ca phe": "cafe", "quan ca phe": "cafe", "cafe": "cafe", "coffee": "cafe",
    "nha hang": "restaurant", "quan an": "restaurant", "an uong": "restaurant",
    "quan bar": "bar", "quan nhau": "bar", "bar": "bar", "karaoke bar": "bar",
    "cho": "market", "sieu thi": "supermarket", "trung tam thuong mai": "supermarket",
    "van phong": "office", "co quan": "office", "doanh nghiep": "office",
    "truong hoc": "school", "truong": "school", "benh vien": "hospital",
    "tram y te": "hospital", "phong kham": "hospital", "khach san": "hotel",
    "nha nghi": "hotel", "homestay": "hotel", "phong tap": "gym", "phong gym": "gym",
    "chua": "worship", "nha tho": "worship", "khac": "other",
}
DEFAULT_SCANNING_POINTS = 1
DEFAULT_STAFF = 1
COLUMNS = ("name", "address", "ward", "district", "category")  # the list's own
OPTIONAL = ("venue_id", "opening_hours", "scanning_points", "staff_count", "capacity")


def venue_id_for(district: str, ward: str, name: str, address: str) -> str:
    """The id of a listed venue that has none: the same for the same place however typed."""
    place = "\x1f".join(fold(x) for x in (district, ward, name, address))
    return "DS-" + hashlib.sha256(place.encode()).hexdigest()[:12].upper()


def category_code(given: str, names: Mapping[str, str] = {}) -> str:
    """``cafe`` from ``cafe``, or from a name in ``names`` (folded name -> code)."""
    text = fold(given)
    if text in CATEGORIES:
        return text
    code = names.get(text) or CATEGORY_WORDS.get(text)
    if code is None:
        raise InvalidEvent(Reason.BAD_ENUM, f"category {given[:40]!r}: expected one of "
                                            f"{', '.join(sorted(CATEGORIES))} or their names")
    return code


def from_list(row: Mapping[str, Any], category_names: Mapping[str, str] = {}) -> Venue:
    """A registry record from one row of the list (strings, as a CSV row; blank = not given).
    Raises ``InvalidEvent`` for a row the registry cannot take."""
    unknown = sorted(set(row) - set(COLUMNS) - set(OPTIONAL) - {"v"})
    if unknown:
        raise InvalidEvent(Reason.UNKNOWN_FIELD, f"unknown fields: {', '.join(unknown)[:200]}")
    given = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()
             if v is not None and v != "" and not (isinstance(v, str) and not v.strip())}
    for key in ("name", "ward", "district", "category"):
        if key not in given:
            raise InvalidEvent(Reason.EMPTY_FIELD if key in row else Reason.MISSING_FIELD,
                               f"{key} is {'empty' if key in row else 'missing'}")
    if not isinstance(given["category"], str):
        raise InvalidEvent(Reason.WRONG_TYPE, "category must be a string")
    category = category_code(given["category"], category_names)
    assumed = []
    record: dict[str, Any] = {
        "venue_id": given.get("venue_id") or venue_id_for(
            *(str(given.get(k, "")) for k in ("district", "ward", "name", "address"))),
        "name": given["name"], "district": given["district"], "ward": given["ward"],
        "category": category,
    }
    if "address" in given:
        record["address"] = given["address"]
    hours = given.get("opening_hours")
    if hours is None:
        hours = DEFAULT_HOURS[category]
        assumed.append("opening_hours")
    record["opening_hours"] = venue_codec.parse_hours_text(hours) if isinstance(hours, str) \
        else hours
    for key, default in (("scanning_points", DEFAULT_SCANNING_POINTS),
                         ("staff_count", DEFAULT_STAFF)):
        if key in given:
            record[key] = _whole(given[key], key)
        else:
            record[key] = default
            assumed.append(key)
    if "capacity" in given:
        record["capacity"] = _whole(given["capacity"], "capacity")
    if assumed:
        record["assumed"] = assumed
    return venue_codec.from_mapping(record)


def _whole(value: Any, key: str) -> Any:
    """A CSV cell's digits as an integer; anything else is left for the codec to refuse."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value
