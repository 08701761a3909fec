"""The single-host compose file (deploy/compose/compose.yaml), read offline (no Docker engine
here): it parses, every variable given to a truyvet service is one of truyvet's settings or
flags, each service's command is one the CLI accepts, and its Kafka is the version the project
runs and tests."""

from __future__ import annotations

import re
from typing import Any

import yaml

from truyvet.jobs.app import JOBS
from truyvet.settings import Settings

from tests.deploy import tools

COMPOSE = tools.DEPLOY / "compose" / "compose.yaml"


def services() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(COMPOSE.read_text())  # anchors and merge keys resolved
    return doc["services"]


def _truyvet(svc: dict[str, Any]) -> bool:
    return svc["image"].split(":")[0] == "truyvet"


def _env(svc: dict[str, Any]) -> dict[str, str]:
    # ${NAME:?message}: compose takes it from the shell; stand in for it here
    return {k: re.sub(r"\$\{[^}]*\}", "from-the-shell", str(v))
            for k, v in svc.get("environment", {}).items()}


def test_every_variable_of_a_truyvet_service_is_a_setting_or_flag() -> None:
    ours = {name: svc for name, svc in services().items() if _truyvet(svc)}
    assert set(ours) >= {"worker", "api", "simulator"}
    for name, svc in ours.items():
        env = _env(svc)
        assert not tools.unknown_names(set(env)), (name, tools.unknown_names(set(env)))
        s = Settings.from_env(env)
        assert s.bootstrap_servers == "kafka:9092", name
        assert svc["image"] == f"truyvet:{tools.project_version()}"
        tools.parse_command(svc["command"])
        volumes = [v.split(":")[1] for v in svc.get("volumes", [])]
        assert str(s.data_dir) in volumes, name  # a writable place on a read-only root


def test_the_worker_runs_every_job_and_the_api_its_checkpoint_on_a_volume() -> None:
    svc = services()
    ctx = tools.parse_command(svc["worker"]["command"])
    assert set(ctx.params["jobs"].split(",")) == set(JOBS)
    api = Settings.from_env(_env(svc["api"]))
    assert api.api_host == "0.0.0.0" and api.redis_url == "redis://redis:6379/0"
    assert str(api.checkpoint_dir).startswith(str(api.data_dir))
    assert svc["api"]["ports"] == [f"127.0.0.1:{api.api_port}:{api.api_port}"]


def test_kafka_is_the_version_the_project_runs_and_makes_no_topic_by_itself() -> None:
    kafka = services()["kafka"]
    assert kafka["image"] == f"apache/kafka:{Settings().kafka_version}"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"


def test_the_topic_settings_are_the_charts() -> None:
    chart = yaml.safe_load((tools.CHART / "values.yaml").read_text())["settings"]
    worker = _env(services()["worker"])
    assert {k: worker[k] for k in chart} == chart
