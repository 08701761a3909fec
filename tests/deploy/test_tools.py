"""The deploy checks never skip: a tool that is missing fails, naming the set-up command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy import tools


def test_a_missing_tool_fails_naming_the_command_that_installs_it(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="run: bash deploy/setup.sh"):
        tools._need(tmp_path / "helm", "helm")


def test_the_pinned_versions_are_read_from_one_file() -> None:
    versions = tools.tool_versions()
    assert versions["HELM_VERSION"].startswith("v3.") and versions["KEDA_VERSION"].startswith("v2.")
    assert tools.helm().name == "helm" and tools.helm().parent.name == f"helm-{versions['HELM_VERSION']}"
