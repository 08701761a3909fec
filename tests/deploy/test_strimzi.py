"""The Strimzi example (deploy/strimzi): the KafkaTopics equal the topic catalogue, the
KafkaUsers' ACLs equal the roles' ACL table, and the cluster is what the chart's secured example
connects to. The generated files must also be what deploy/strimzi/generate.py prints today.

Not schema-validated: no registry reachable here ships Strimzi's CRDs (the io.strimzi:api jar
on Maven Central has the model classes, not the CRD YAML), so these objects are checked against
the facts they must carry, and their shape against the Kubernetes object basics."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import yaml

from truyvet import topics
from truyvet.devstack.secure import ADMIN_USER
from truyvet.kafka.admin import replication_for
from truyvet.kafka.security import ROLES, grants, user_of
from truyvet.settings import Settings

from tests.deploy import tools

STRIMZI = tools.DEPLOY / "strimzi"
NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")  # a DNS subdomain, as metadata.name


def _load(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((STRIMZI / name).read_text()) if d]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("strimzi_generate", STRIMZI / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cluster() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    docs = _load("kafka.yaml")
    (kafka,) = [d for d in docs if d["kind"] == "Kafka"]
    return kafka, [d for d in docs if d["kind"] == "KafkaNodePool"]


def test_the_checked_in_files_are_what_the_generator_prints() -> None:
    generate = _generator()
    for what in ("topics", "users"):
        assert (STRIMZI / f"{what}.yaml").read_text() == generate.render(what, Settings()), (
            f"deploy/strimzi/{what}.yaml is stale: .venv/bin/python deploy/strimzi/generate.py "
            f"{what} > deploy/strimzi/{what}.yaml")


def test_every_object_is_a_strimzi_resource_of_the_cluster() -> None:
    kafka, _ = _cluster()
    for name in ("kafka.yaml", "topics.yaml", "users.yaml"):
        for d in _load(name):
            assert d["apiVersion"] == "kafka.strimzi.io/v1"
            assert NAME.match(d["metadata"]["name"]) and len(d["metadata"]["name"]) <= 253
            if d["kind"] != "Kafka":
                assert d["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]


def test_the_topics_are_the_catalogue() -> None:
    s = Settings()
    _, pools = _cluster()
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    rf, min_isr = replication_for(brokers)
    got = {t["spec"]["topicName"]: t["spec"] for t in _load("topics.yaml")}
    want = {spec.name: spec for spec in topics.catalogue(s)}
    assert set(got) == set(want)
    for name, spec in want.items():
        assert got[name]["partitions"] == spec.partitions, name
        assert got[name]["replicas"] == rf, name
        config = {k: str(v) for k, v in got[name]["config"].items()}
        assert config == {**spec.config, "min.insync.replicas": str(min_isr)}, name
    # the figures that matter most, from the settings themselves
    assert got[topics.checkins(s)]["config"]["retention.ms"] == str(int(s.retention_days * 86_400_000))
    assert got[topics.checkins(s)]["partitions"] == s.checkin_partitions


def test_the_users_acls_are_the_acl_table() -> None:
    s = Settings()
    users = {u["metadata"]["name"]: u["spec"] for u in _load("users.yaml")}
    assert set(users) == {user_of(s, role) for role in ROLES} | {ADMIN_USER}
    for role in ROLES:
        spec = users[user_of(s, role)]
        assert spec["authentication"] == {"type": "scram-sha-512"}
        got = {(a["resource"]["type"], a["resource"]["name"], op.upper(),
                {"literal": False, "prefix": True}[a["resource"]["patternType"]])
               for a in spec["authorization"]["acls"] for op in a["operations"]}
        assert all(a["host"] == "*" for a in spec["authorization"]["acls"])
        want = {(g.resource, g.name, g.operation, g.prefixed) for g in grants(s, role)}
        assert got == want, role
    # the admin: authenticated, no ACLs, a super user of the cluster
    assert "authorization" not in users[ADMIN_USER]
    kafka, _ = _cluster()
    assert kafka["spec"]["kafka"]["authorization"]["superUsers"] == [ADMIN_USER]


def test_the_cluster_is_what_the_charts_secured_example_reaches() -> None:
    kafka, pools = _cluster()
    name = kafka["metadata"]["name"]
    values = yaml.safe_load(tools.STRIMZI_VALUES.read_text())["kafka"]
    host, port = values["bootstrapServers"].split(":")
    assert host == f"{name}-kafka-bootstrap"  # Strimzi's bootstrap service of the cluster
    (listener,) = [lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["port"] == int(port)]
    assert listener["tls"] and values["securityProtocol"] == "SASL_SSL"
    assert listener["authentication"]["type"] == values["saslMechanism"].lower()
    assert values["caSecret"] == {"name": f"{name}-cluster-ca-cert", "key": "ca.crt"}
    assert not values["manageTopics"]  # the Topic Operator makes and keeps them
    users = {u["metadata"]["name"] for u in _load("users.yaml")}
    for role in values["users"].values():  # Strimzi's Secret of each user: its name, "password"
        assert role["username"] in users and role["passwordSecret"] == {"name": role["username"], "key": "password"}
    config = kafka["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    rf, min_isr = replication_for(sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]))
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == (rf, min_isr)
    assert all({"controller", "broker"} & set(p["spec"]["roles"]) for p in pools)  # KRaft
    assert kafka["spec"]["entityOperator"].keys() >= {"topicOperator", "userOperator"}


def test_the_chart_runs_with_the_settings_the_topics_were_made_for() -> None:
    """The KafkaTopics are made for the default settings; processes with another prefix,
    partition count or retention would find other topics, or alter these."""
    for values in (tools.CHART / "values.yaml", tools.STRIMZI_VALUES):
        settings = yaml.safe_load(values.read_text()).get("settings")
        if settings is None:
            continue
        s, default = Settings.from_env(settings), Settings()
        assert (s.topic_prefix, s.checkin_partitions, s.retention_days) == (
            default.topic_prefix, default.checkin_partitions, default.retention_days), values
