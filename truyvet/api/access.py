"""Who may call what (pure): principals with roles, and the roles each route admits.

Roles:
- ``tracer``: itineraries and their contacts (personal data: who was where with whom), of the
  cases the tracer opened or was shared (``truyvet.domain.matching.ownership``);
- ``supervisor``: a tracing team's lead: reads and watches every case, and shares a case with
  another principal (replacing one stays its owner's);
- ``inspector``: venue compliance, alerts, inspections, campaigns and the report;
- ``ops``: pipeline figures and the dashboard's figures, which name venues, never people;
- ``admin``: every role (the local stack's own token, ``TRUYVET_API_TOKEN``).

Principals come from ``TRUYVET_API_TOKENS``: comma-separated ``name:role[+role]:token[:team]``
entries, e.g. ``lan:tracer:…:cdc-phu-vang,hue-insp-1:inspector:…,noc:ops:…`` (the team: a
district's tracing team, which owns its tracers' cases when ``TRUYVET_CASE_OWNER=team``). A token is compared in
constant time and never logged; a principal is known by its name (audit records it). Every
token, the admin's too, has at least 22 characters: 128 bits when random base64url
(``truyvet token`` makes one of 256 bits).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

ROLES = ("tracer", "supervisor", "inspector", "ops", "admin")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")  # a principal's or a team's name
MIN_TOKEN_LENGTH = 22  # 128 bits of base64url


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    team: str | None = None  # a tracing team (a district's), for cases owned by teams

    def may(self, allowed: frozenset[str]) -> bool:
        return "admin" in self.roles or bool(self.roles & allowed)


# (method, route pattern as registered) -> roles admitted. Every route of the API must be
# listed here (a unit test checks it), so a new route cannot be left open by mistake.
TRACER = frozenset({"tracer", "supervisor"})  # which cases: the route asks ownership
SUPERVISOR = frozenset({"supervisor"})
INSPECTOR = frozenset({"inspector"})
FIGURES = frozenset({"inspector", "ops"})  # venue-level figures: no personal data
OPS = frozenset({"ops"})
ANY = frozenset({"tracer", "supervisor", "inspector", "ops"})

ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/itineraries"): TRACER,
    ("GET", "/api/v1/itineraries"): TRACER,
    ("POST", "/api/v1/imports/itineraries"): TRACER,
    ("GET", "/api/v1/itineraries/{case_id}"): TRACER,
    ("GET", "/api/v1/itineraries/{case_id}/events"): TRACER,
    ("GET", "/api/v1/itineraries/{case_id}/contacts"): TRACER,
    ("GET", "/api/v1/itineraries/{case_id}/f1"): TRACER,
    ("GET", "/api/v1/itineraries/{case_id}/chain"): TRACER,
    ("GET", "/api/v1/itineraries/{case_id}/followups"): TRACER,
    ("PUT", "/api/v1/itineraries/{case_id}/followups/{card_id}"): TRACER,
    ("POST", "/api/v1/itineraries/{case_id}/shares"): SUPERVISOR,
    ("GET", "/api/v1/clusters"): ANY,  # cases listed only to whoever may see them
    ("GET", "/api/v1/compliance"): FIGURES,
    ("GET", "/api/v1/compliance/venues/{venue_id}"): FIGURES,  # inspectors' names: inspector only
    ("GET", "/api/v1/venues"): ANY,  # the registry: no personal data
    ("GET", "/api/v1/alerts"): FIGURES,
    ("GET", "/api/v1/gaps"): FIGURES,  # venues and spans, never the case
    ("POST", "/api/v1/inspections"): INSPECTOR,
    ("GET", "/api/v1/inspections"): INSPECTOR,
    ("POST", "/api/v1/campaigns"): INSPECTOR,
    ("GET", "/api/v1/campaigns"): FIGURES,
    ("GET", "/api/v1/campaigns/{campaign_id}/queue"): FIGURES,
    ("GET", "/api/v1/report"): INSPECTOR,
    ("GET", "/api/v1/ops"): OPS | INSPECTOR,
    ("GET", "/api/v1/labels"): ANY,
    ("GET", "/api/v1/whoami"): ANY,
}
# Open to anyone: liveness, Prometheus, and the pages' static files (each page asks for a
# token; the data it shows comes from the routes above).
PUBLIC_PATHS = frozenset({"/healthz", "/metrics", "/", "/dashboard", "/workbench", "/inspector"})
PUBLIC_PREFIXES = ("/dashboard/", "/workbench/", "/inspector/", "/pages/")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class Tokens:
    """The configured principals, looked up by token in constant time per entry."""

    def __init__(self, entries: list[tuple[str, Principal]]) -> None:
        self._entries = [(_raw(t), p) for t, p in entries]

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> frozenset[str]:
        return frozenset(p.name for _, p in self._entries)

    def lookup(self, token: str) -> Principal | None:
        given = _raw(token)
        found = None
        for expected, principal in self._entries:  # no early exit: time independent of order
            if hmac.compare_digest(given, expected):
                found = principal
        return found


def _raw(token: str) -> bytes:
    """The token as bytes, for any string. aiohttp decodes header bytes that are not UTF-8 to
    lone surrogates (surrogateescape), which a strict ``encode()`` refuses with an exception
    (a 500 before this); passed through, they simply match no configured token."""
    return token.encode("utf-8", "surrogatepass")


def parse_tokens(spec: str, admin_token: str = "") -> Tokens:
    """``name:role[+role]:token[:team]`` entries; ``admin_token`` adds the principal ``admin``.
    Raises ``ValueError`` naming the bad entry (by position, never by its token)."""
    entries: list[tuple[str, Principal]] = []
    if admin_token:
        if len(admin_token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"TRUYVET_API_TOKEN: the token must have at least "
                             f"{MIN_TOKEN_LENGTH} characters (128 bits; `truyvet token` makes one)")
        entries.append((admin_token, Principal("admin", frozenset({"admin"}))))
    names: set[str] = set()
    for i, raw in enumerate((e.strip() for e in spec.split(",")), 1):
        if not raw:
            continue
        parts = raw.split(":", 3)
        if len(parts) not in (3, 4):
            raise ValueError(f"TRUYVET_API_TOKENS entry {i}: expected name:role:token[:team]")
        name, roles_text, token = parts[:3]
        team = parts[3] if len(parts) == 4 else None
        if team is not None and not NAME.fullmatch(team):
            raise ValueError(f"TRUYVET_API_TOKENS entry {i} ({name}): bad team {team[:64]!r}")
        if not NAME.fullmatch(name):
            raise ValueError(f"TRUYVET_API_TOKENS entry {i}: bad name {name[:64]!r}")
        roles = frozenset(roles_text.split("+"))
        unknown = roles - set(ROLES)
        if unknown or not roles:
            raise ValueError(f"TRUYVET_API_TOKENS entry {i} ({name}): unknown role "
                             f"{', '.join(sorted(unknown)) or '(none)'}; roles: {', '.join(ROLES)}")
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"TRUYVET_API_TOKENS entry {i} ({name}): the token must have at "
                             f"least {MIN_TOKEN_LENGTH} characters (128 bits; `truyvet token` "
                             f"makes one)")
        if name in names:
            raise ValueError(f"TRUYVET_API_TOKENS entry {i}: name {name!r} given twice")
        names.add(name)
        entries.append((token, Principal(name, roles, team)))
    if len({t for t, _ in entries}) != len(entries):
        raise ValueError("TRUYVET_API_TOKENS: two principals share a token")
    return Tokens(entries)
