"""Secrets on disk (the API token, the secured stack's passwords and environments) are
readable by their owner only from the first byte, replaced whole, and never trusted when
others could read them."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from truyvet import secret_file
from truyvet.api.access import MIN_TOKEN_LENGTH, parse_tokens
from truyvet.secret_file import new_token, read_private, write_private
from truyvet.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_secret_is_never_readable_by_others_even_with_an_open_umask(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, bytes]] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:  # the moment before the file takes its name
        seen.append((_mode(Path(src)), Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(secret_file.os, "replace", replace)
    old = os.umask(0)
    try:
        target = tmp_path / "d" / "api-token"
        write_private(target, "s3cret")
    finally:
        os.umask(old)
    assert seen == [(0o600, b"s3cret")]  # complete, and 0600, before anyone can open it by name
    assert _mode(target) == 0o600 and _mode(target.parent) == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["api-token"]  # no temporary file left


def test_an_existing_world_readable_file_does_not_keep_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "passwords.json"
    target.write_text("old")
    target.chmod(0o644)
    write_private(target, "new")
    assert target.read_text() == "new" and _mode(target) == 0o600


def test_a_secret_others_could_read_is_made_private_and_said(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    target = tmp_path / "api-token"
    target.write_text("tok")
    target.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert read_private(target) == "tok"
    assert _mode(target) == 0o600
    assert "readable by others" in caplog.text and "tok" not in caplog.text.replace("token", "")


def test_the_local_stacks_token_has_256_bits_and_is_private(tmp_path: Path) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path)
    token = s.token(create=True)
    assert len(token) == 43 and _mode(tmp_path / "api-token") == 0o600
    assert s.token(create=True) == token  # made once
    assert len({new_token() for _ in range(100)}) == 100


@pytest.mark.parametrize("spec, admin", [("", "a" * (MIN_TOKEN_LENGTH - 1)),
                                         ("lan:tracer:" + "b" * (MIN_TOKEN_LENGTH - 1), "")])
def test_every_token_has_at_least_128_bits(spec: str, admin: str) -> None:
    assert MIN_TOKEN_LENGTH * 6 >= 128  # base64url: 6 bits a character
    with pytest.raises(ValueError, match=f"at least {MIN_TOKEN_LENGTH} characters"):
        parse_tokens(spec, admin)
    longer = (spec + "b", "") if spec else ("", admin + "a")
    assert len(parse_tokens(*longer)) == 1
