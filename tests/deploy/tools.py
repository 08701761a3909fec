"""What the offline checks of deploy/ share: the tools `make setup` prepares (helm, the KEDA
CRDs: deploy/helm/fetch-tools.sh), rendering the chart, validating an object against the
Kubernetes schemas or a CRD's, the names a truyvet process reads from its environment, and
reading the Dockerfile.

A tool that is missing fails the test that needs it, naming the command that installs it:
these checks are never skipped.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import click
import jsonschema
import kubernetes_validate
import pytest
import yaml

from truyvet.cli import main
from truyvet.settings import ROOT, Settings

DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "truyvet"
STRIMZI_VALUES = DEPLOY / "helm" / "examples" / "strimzi.yaml"
CACHE = Path(os.environ.get("TRUYVET_CACHE_DIR", ROOT / ".cache")) / "tools"
SETUP = "bash deploy/setup.sh (or deploy/helm/fetch-tools.sh alone)"
# the Kubernetes versions whose schemas every rendered built-in object must satisfy: the
# oldest and the newest kubernetes-validate ships
KUBE_VERSIONS = ("1.25.0", kubernetes_validate.latest_version())


def tool_versions() -> dict[str, str]:
    """deploy/helm/tools.env: NAME=value lines, comments after '#'."""
    out = {}
    for line in (DEPLOY / "helm" / "tools.env").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is not at {path}; run: {SETUP}", pytrace=False)
    return path


def helm() -> Path:
    return _need(CACHE / f"helm-{tool_versions()['HELM_VERSION']}" / "helm", "helm")


def keda_dir() -> Path:
    d = CACHE / f"keda-{tool_versions()['KEDA_VERSION']}"
    _need(d / ".complete", "the KEDA CRDs")
    return d


def render(*values: Path, sets: tuple[str, ...] = (), release: str = "truyvet") -> list[dict[str, Any]]:
    """The chart's objects, as `helm template` renders them."""
    done = run_helm(*values, sets=sets, release=release)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def run_helm(*values: Path, sets: tuple[str, ...] = (), release: str = "truyvet") -> subprocess.CompletedProcess[str]:
    args = [str(helm()), "template", release, str(CHART)]
    for v in values:
        args += ["-f", str(v)]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HELM_CACHE_HOME": str(CACHE / "helm-home"),
                               "HELM_CONFIG_HOME": str(CACHE / "helm-home"),
                               "HELM_DATA_HOME": str(CACHE / "helm-home")})


# --- validation ----------------------------------------------------------------------------
def validate_builtin(obj: dict[str, Any]) -> None:
    """Against the Kubernetes API's own schemas, unknown fields refused (strict)."""
    for version in KUBE_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(f"{obj['kind']} {obj['metadata']['name']} (Kubernetes {version}): "
                                 f"{exc.message} at {'.'.join(map(str, exc.path))}") from None


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the openAPIV3Schema of each CRD the chart may render (KEDA's)."""
    out = {}
    for path in sorted(keda_dir().glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            out[(f"{group}/{version['name']}", kind)] = _closed(version["schema"]["openAPIV3Schema"])
    return out


def _closed(schema: Any) -> Any:
    """A CRD schema refusing unknown fields, as the API server does with strict field
    validation (kubectl's default): every object with properties and no other rule for the
    rest gets additionalProperties: false."""
    schema = copy.deepcopy(schema)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    if "metadata" in schema.get("properties", {}):  # ObjectMeta: not described by CRDs
        schema["properties"]["metadata"] = {"type": "object"}
    return schema


def validate_custom(obj: dict[str, Any]) -> None:
    schema = crd_schemas().get((obj["apiVersion"], obj["kind"]))
    assert schema is not None, f"no CRD schema for {obj['apiVersion']} {obj['kind']}"
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: e.path)
    assert not errors, f"{obj['kind']} {obj['metadata']['name']}: " + "; ".join(
        f"{e.message} at {'.'.join(map(str, e.path))}" for e in errors)


def validate(obj: dict[str, Any]) -> None:
    """Against the Kubernetes schemas, or the CRD's for KEDA's kinds; a kind of any other
    API group has no schema here and fails."""
    group = obj["apiVersion"].rpartition("/")[0]
    if (obj["apiVersion"], obj["kind"]) in crd_schemas():
        validate_custom(obj)
    elif "." in group and not group.endswith(".k8s.io"):
        raise AssertionError(f"no schema to validate {obj['apiVersion']} {obj['kind']} against")
    else:
        validate_builtin(obj)


@cache
def kafka_scaler_parameters() -> dict[str, set[str]]:
    """The names KEDA's Kafka scaler reads, by where (triggerMetadata, authParams), from its
    source (`keda:"name=...,order=..."` tags)."""
    out: dict[str, set[str]] = {"triggerMetadata": set(), "authParams": set()}
    source = (keda_dir() / "kafka_scaler.go").read_text()
    for name, order in re.findall(r'keda:"name=([A-Za-z]+),order=([A-Za-z;]+)', source):
        for where in order.split(";"):
            if where in out:
                out[where].add(name)
    return out


# --- what a truyvet process reads -----------------------------------------------------------
SETTINGS_ENV = {f.metadata["env"]: f for f in dataclasses.fields(Settings) if f.init}
SECRET_ENV = {name for name, f in SETTINGS_ENV.items() if f.metadata["secret"]}


def cli_env() -> dict[str, str]:
    """Every environment variable a `truyvet` command or flag reads -> the command."""
    out = {}

    def walk(cmd: click.Command, path: str) -> None:
        for p in cmd.params:
            if isinstance(p, click.Option) and p.envvar:
                for name in [p.envvar] if isinstance(p.envvar, str) else p.envvar:
                    out[name] = path
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, f"{path} lists {name} but has no such command"
                walk(sub, f"{path} {name}")

    walk(main, "truyvet")
    return out


# Read by what runs truyvet, not by truyvet: Python and the container's search path.
NOT_TRUYVET = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


def unknown_names(names: set[str]) -> set[str]:
    return names - set(SETTINGS_ENV) - set(cli_env()) - NOT_TRUYVET


def parse_command(args: list[str]) -> click.Context:
    """The real CLI's parse of a container's arguments (nothing runs): unknown commands,
    flags or values fail here as they would in the pod."""
    command = main.get_command(click.Context(main), args[0])
    assert command is not None, f"no command truyvet {args[0]}"
    return command.make_context(args[0], list(args[1:]), resilient_parsing=False)


def project_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


# --- the image definition -------------------------------------------------------------------
DOCKERFILE = DEPLOY / "container" / "Dockerfile"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def dockerfile_user() -> int:
    (user,) = [args for word, args in dockerfile_instructions() if word == "USER"]
    uid, _, _ = user.partition(":")
    return int(uid)


def dockerfile_env() -> dict[str, str]:
    out = {}
    for word, args in dockerfile_instructions():
        if word == "ENV":
            for name, value in re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", args):
                out[name] = value
    return out
