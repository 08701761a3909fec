"""Cluster v1 (schemas/cluster.v1.schema.json): two or more F0 cases whose stops meet at one
venue (an ổ dịch, ``truyvet.domain.clusters``). Topic ``<prefix>.clusters.v1``, key =
cluster_id, compacted: the latest record of each cluster stays; a tombstone (no value) when it
dissolves (a case replaced or expired) or is renamed (an earlier stop joined it)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import orjson

from truyvet.codec import Codec, json_codec
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import (
    check_keys,
    check_version,
    count,
    element,
    identifier,
    require_object,
    text,
    timestamp_ms,
    type_name,
)
from truyvet.codec.itinerary import MAX_STOPS
from truyvet.codec.timefmt import format_ms

VERSION = 1
MAX_MEMBERS = 10_000
_REQUIRED = frozenset({"cluster_id", "venue_id", "window", "from", "to", "cases", "members",
                       "updated_at"})
_ALLOWED = _REQUIRED | {"v"}
_MEMBER = frozenset({"case_id", "stop", "from", "to"})
WINDOW = re.compile(r"day|[0-9]{1,6}[mh]")  # as truyvet.domain.clusters.Window.text writes it


@dataclass(frozen=True, slots=True)
class ClusterMember:
    case_id: str
    stop: int  # 0-based, in the case's itinerary
    from_ms: int
    to_ms: int


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    cluster_id: str  # venue_id@local date (or @local date and time, for a window in hours)
    venue_id: str
    window: str  # "day", or "90m", "2h": when two stops meet
    from_ms: int
    to_ms: int
    cases: int  # distinct cases among the members
    members: tuple[ClusterMember, ...]  # by start
    updated_at_ms: int


def from_mapping(obj: Any) -> ClusterRecord:
    obj = require_object(obj, "cluster")
    check_keys(obj, _REQUIRED, _ALLOWED, "cluster")
    check_version(obj, VERSION, "cluster")
    raw = obj["members"]
    if type(raw) is not list:
        raise InvalidEvent(Reason.WRONG_TYPE, f"members must be an array, got {type_name(raw)}")
    if not 2 <= len(raw) <= MAX_MEMBERS:
        raise InvalidEvent(Reason.BAD_VALUE, f"members has {len(raw)} items, 2..{MAX_MEMBERS} "
                                             "allowed")
    members = tuple(_member(i, m) for i, m in enumerate(raw))
    c = ClusterRecord(text(obj, "cluster_id", 300, minimum=1), identifier(obj, "venue_id"),
                      text(obj, "window", 20, minimum=1), timestamp_ms(obj, "from"),
                      timestamp_ms(obj, "to"), count(obj, "cases", MAX_MEMBERS), members,
                      timestamp_ms(obj, "updated_at"))
    if not WINDOW.fullmatch(c.window):
        raise InvalidEvent(Reason.BAD_VALUE, f"cluster: window {c.window!r} is 'day' or "
                                             "minutes or hours ('90m', '2h')")
    if c.to_ms < c.from_ms:
        raise InvalidEvent(Reason.BAD_INTERVAL, "cluster: 'to' is before 'from'")
    if c.cases != len({m.case_id for m in members}) or c.cases < 2:
        raise InvalidEvent(Reason.BAD_VALUE, f"cluster: cases is {c.cases}, its members name "
                                             f"{len({m.case_id for m in members})} (2 or more)")
    return c


def _member(i: int, raw: Any) -> ClusterMember:
    where = f"members[{i}]"
    member = element(raw, where, _MEMBER, lambda m: ClusterMember(
        identifier(m, "case_id"), count(m, "stop", MAX_STOPS - 1), timestamp_ms(m, "from"),
        timestamp_ms(m, "to")))
    if member.to_ms < member.from_ms:
        raise InvalidEvent(Reason.BAD_INTERVAL, f"{where}: 'to' is before 'from'")
    return member


def to_mapping(c: ClusterRecord) -> dict[str, Any]:
    return {"v": VERSION, "cluster_id": c.cluster_id, "venue_id": c.venue_id,
            "window": c.window, "from": format_ms(c.from_ms), "to": format_ms(c.to_ms),
            "cases": c.cases,
            "members": [{"case_id": m.case_id, "stop": m.stop, "from": format_ms(m.from_ms),
                         "to": format_ms(m.to_ms)} for m in c.members],
            "updated_at": format_ms(c.updated_at_ms)}


def key(c: ClusterRecord) -> bytes:
    return c.cluster_id.encode()


def encode(c: ClusterRecord) -> bytes:
    """``orjson.dumps(to_mapping(c))``, byte for byte, each member's JSON made once: a cluster
    is written again whole at each change, hundreds of members the same as the last time."""
    head = to_mapping(ClusterRecord(c.cluster_id, c.venue_id, c.window, c.from_ms, c.to_ms,
                                    c.cases, (), c.updated_at_ms))
    head["members"] = [_member_json(m.case_id, m.stop, m.from_ms, m.to_ms) for m in c.members]
    return orjson.dumps(head)


@functools.lru_cache(maxsize=1 << 16)
def _member_json(case_id: str, stop: int, from_ms: int, to_ms: int) -> orjson.Fragment:
    return orjson.Fragment(orjson.dumps({"case_id": case_id, "stop": stop,
                                         "from": format_ms(from_ms), "to": format_ms(to_ms)}))


CODEC = Codec("cluster.v1", encode, json_codec("cluster.v1", to_mapping, from_mapping, key).decode,
              key)
decode = CODEC.decode
