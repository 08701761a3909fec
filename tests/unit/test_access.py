"""Who may call what: every route is listed with its roles; tokens parse with clear errors."""

from __future__ import annotations

import pytest

from truyvet.api import access
from truyvet.api.access import Principal, parse_tokens


def _app_routes() -> set[tuple[str, str]]:
    """Every (method, pattern) the API serves, from the real application."""
    from unittest.mock import MagicMock

    from truyvet.api.app import build_app

    app = build_app(MagicMock(), MagicMock(), MagicMock(), parse_tokens("", "x" * 22))
    out = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "*"):
            continue
        path = route.resource.canonical
        if not access.is_public(path) and not access.is_public(path + "/"):  # static dirs
            out.add((route.method, path))
    return out


def test_every_route_has_its_roles() -> None:
    served = _app_routes()
    assert served, "no routes found"
    assert served - set(access.ROUTES) == set(), "routes without roles: add them to truyvet.api.access"
    assert set(access.ROUTES) - served == set(), "roles listed for routes that do not exist"


def test_contacts_are_for_tracers_only() -> None:
    for (method, path), roles in access.ROUTES.items():
        if "itineraries" in path:  # tracers and their supervisors; sharing: supervisors only
            assert roles == ({"supervisor"} if path.endswith("/shares")
                             else {"tracer", "supervisor"}), (method, path)
        else:
            assert not roles & {"tracer", "supervisor"} or path in (  # no personal data:
                "/api/v1/labels", "/api/v1/whoami", "/api/v1/venues",
                # names a case only to whoever may see it (tests/integration/test_clusters.py)
                "/api/v1/clusters"), (method, path)
    ops = Principal("noc", frozenset({"ops"}))
    assert not ops.may(access.ROUTES[("GET", "/api/v1/itineraries/{case_id}")])
    assert ops.may(access.ROUTES[("GET", "/api/v1/ops")])
    assert Principal("root", frozenset({"admin"})).may(access.TRACER)


def test_tokens_identify_principals() -> None:
    tokens = parse_tokens("lan:tracer:" + "a" * 22 + ", noc:ops+inspector:" + "b" * 22, "c" * 22)
    assert tokens.lookup("a" * 22) == Principal("lan", frozenset({"tracer"}))
    assert tokens.lookup("b" * 22).roles == {"ops", "inspector"}
    assert tokens.lookup("c" * 22).name == "admin"
    assert tokens.lookup("a" * 21) is None and tokens.lookup("") is None


@pytest.mark.parametrize(("spec", "message"), [
    ("lan:tracer", "expected name:role:token"),
    ("lan:boss:" + "a" * 22, "unknown role boss"),
    ("lan:tracer:short", "at least 22 characters"),
    ("l n:tracer:" + "a" * 22, "bad name"),
    ("a:tracer:" + "x" * 22 + ",a:ops:" + "y" * 22, "given twice"),
    ("a:tracer:" + "x" * 22 + ",b:ops:" + "x" * 22, "share a token"),
])
def test_bad_token_specs_are_refused_without_echoing_tokens(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        parse_tokens(spec)
    assert "x" * 22 not in str(err.value) and "a" * 22 not in str(err.value)


def test_a_token_of_bytes_that_are_not_utf8_is_unknown_not_an_error() -> None:
    # aiohttp hands header bytes that are not UTF-8 over as lone surrogates (surrogateescape);
    # encoding them strictly raised, and the API answered 500 instead of 401 (found by fuzzing)
    tokens = parse_tokens("lan:tracer:" + "a" * 22, "c" * 22)
    assert tokens.lookup(b"\xff\xfe".decode("utf-8", "surrogateescape")) is None
    assert tokens.lookup("\ud800" + "a" * 21) is None
    assert tokens.lookup("a" * 22) == Principal("lan", frozenset({"tracer"}))


def test_a_principal_may_name_its_team() -> None:
    tokens = parse_tokens("lan:tracer:" + "a" * 22 + ":cdc-phu-vang, noc:ops:" + "b" * 22)
    assert tokens.lookup("a" * 22) == Principal("lan", frozenset({"tracer"}), "cdc-phu-vang")
    assert tokens.lookup("b" * 22) == Principal("noc", frozenset({"ops"}))
    with pytest.raises(ValueError, match="bad team") as err:
        parse_tokens("lan:tracer:" + "a" * 22 + ":phu vang")
    assert "a" * 22 not in str(err.value)
