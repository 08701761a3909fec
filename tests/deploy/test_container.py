"""The image definition (deploy/container/Dockerfile), read offline (no Docker engine here):
Debian's images only, the project installed with pip, a numeric non-root user, only truyvet's
variables, and `truyvet` as the entry point."""

from __future__ import annotations

import json
import re

from truyvet.settings import Settings

from tests.deploy import tools


def test_built_only_from_debian_with_the_project_from_pypi() -> None:
    bases = [args.split()[0] for word, args in tools.dockerfile_instructions() if word == "FROM"]
    assert bases and all(b == "debian:12-slim" for b in bases), bases
    runs = " ".join(args for word, args in tools.dockerfile_instructions() if word == "RUN")
    installs = re.findall(r"apt-get install ([^&]*)", runs)
    assert installs and all("--no-install-recommends" in i for i in installs)
    assert "pip install" in runs and "/src" in runs  # the project, its dependencies from PyPI
    assert not re.search(r"\b(curl|wget)\b", runs)  # nothing fetched from elsewhere


def test_runs_truyvet_as_a_numeric_non_root_user() -> None:
    assert tools.dockerfile_user() >= 1000
    (entry,) = [args for word, args in tools.dockerfile_instructions() if word == "ENTRYPOINT"]
    assert json.loads(entry) == ["truyvet"]


def test_every_variable_is_a_setting_of_truyvet() -> None:
    env = tools.dockerfile_env()
    assert env and not tools.unknown_names(set(env))
    s = Settings.from_env(env)
    assert s.api_host == "0.0.0.0"  # reachable from outside the container
    volumes = [args for word, args in tools.dockerfile_instructions() if word == "VOLUME"]
    assert json.loads(volumes[0]) == [str(s.data_dir)]
