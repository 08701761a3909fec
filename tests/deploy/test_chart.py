"""The Helm chart (deploy/helm/truyvet), rendered offline with its default values and with the
secured Strimzi example: every object valid, every variable a truyvet setting or flag, secrets
only by reference, and the facts the chart repeats equal to their sources (the jobs of
`truyvet worker`, the consumer groups and partitions of the topic catalogue, the users of the
ACL table, the image's user, the worker's shutdown deadline). The API is a StatefulSet of
replicas, each with a checkpoint of its own, rolled one at a time."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from truyvet import topics
from truyvet.devstack.secure import ADMIN_USER
from truyvet.jobs.app import JOBS
from truyvet.stopping import STOP_DEADLINE_S
from truyvet.kafka.security import user_of
from truyvet.settings import Settings

from tests.deploy import tools

VALUES = {"default": (), "strimzi": (tools.STRIMZI_VALUES,)}


@pytest.fixture(scope="module", params=list(VALUES))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, tools.render(*VALUES[request.param])


def _of(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def _containers(objs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for o in objs:
        if o["kind"] in ("Deployment", "StatefulSet", "Job"):
            spec = o["spec"]["template"]["spec"]
            out += [(o, c) for c in spec.get("initContainers", []) + spec["containers"]]
    return out


def _truyvet_containers(objs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(o, c) for o, c in _containers(objs) if c["image"].startswith("truyvet:")]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _settings_of(container: dict[str, Any]) -> Settings:
    """The settings the process would have: literal values, and a stand-in for each secret."""
    env = {n: e.get("value", "stand-in-secret") for n, e in _env(container).items()}
    return Settings.from_env(env)


def _api(objs: list[dict[str, Any]]) -> dict[str, Any]:
    """The API's workload: a StatefulSet, and no Deployment runs `truyvet api`."""
    assert not [d for d in _of(objs, "Deployment") if d["metadata"]["name"].endswith("-api")]
    (api,) = [d for d in _of(objs, "StatefulSet") if d["metadata"]["name"].endswith("-api")]
    return api


def _services(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v["metadata"]["name"]: v for v in _of(objs, "Service")}


def _worker_deployments(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for d in _of(objs, "Deployment"):
        (c,) = d["spec"]["template"]["spec"]["containers"]
        if c["args"][0] == "worker":
            ctx = tools.parse_command(c["args"])
            for job in ctx.params["jobs"].split(","):
                assert job not in out, f"job {job} runs in two Deployments"
                out[job] = d
    return out


def test_every_object_validates(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    name, objs = rendered
    assert objs
    for obj in objs:
        tools.validate(obj)
    assert {o["kind"] for o in objs} >= {"StatefulSet", "Service", "PodDisruptionBudget", "Deployment"}
    if name == "strimzi":  # the example exercises the KEDA objects
        assert {o["kind"] for o in objs} >= {"ScaledObject", "TriggerAuthentication", "Job"}


# values the two renderings above do not exercise
OTHER_SETS = {
    "checkpoint-emptydir": ("api.checkpoint.persistence.enabled=false",),
    "more-api-replicas-than-partitions": ("api.replicas=4",),
    "one-api-replica": ("api.replicas=1",),
}


@pytest.mark.parametrize("sets", list(OTHER_SETS.values()), ids=list(OTHER_SETS))
def test_every_object_validates_with_other_values(sets: tuple[str, ...]) -> None:
    for obj in tools.render(sets=sets):
        tools.validate(obj)


def test_every_variable_is_a_setting_or_flag_of_truyvet(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objs = rendered
    containers = _truyvet_containers(objs)
    assert containers
    for obj, c in containers:
        names = set(_env(c))
        assert not tools.unknown_names(names), (obj["metadata"]["name"], tools.unknown_names(names))
        assert len(names) == len(c["env"]), f"{obj['metadata']['name']}: a variable set twice"
        _settings_of(c)  # and together they are settings a process accepts


def test_secrets_are_read_from_secrets_never_written_in_values(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objs = rendered
    for obj, c in _truyvet_containers(objs):
        for name, e in _env(c).items():
            if name in tools.SECRET_ENV or name == "REDIS_URL":  # Redis's URL holds its password
                assert "secretKeyRef" in e.get("valueFrom", {}), (obj["metadata"]["name"], name)
    assert not _of(objs, "Secret")  # the chart makes none: they are made beforehand
    defaults = yaml.safe_load((tools.CHART / "values.yaml").read_text())
    for role in defaults["kafka"]["users"].values():
        assert set(role) == {"username", "passwordSecret"}  # a reference, never a password


def test_every_job_of_the_worker_has_its_own_deployment(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objs = rendered
    workers = _worker_deployments(objs)
    assert set(workers) == set(JOBS)
    groups = topics.pipeline_groups(Settings())
    assert set(groups) == {f"truyvet-{job}" for job in JOBS}  # a consumer group each
    for job, d in workers.items():
        spec = d["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        assert spec["terminationGracePeriodSeconds"] > STOP_DEADLINE_S
        probe = c["readinessProbe"]["exec"]["command"]
        port = _settings_of(c).worker_web_port
        assert f"http://127.0.0.1:{port}/ready" in probe[-1]


def test_the_api_is_ready_on_healthz_and_has_a_disruption_budget(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objs = rendered
    api = _api(objs)
    (c,) = api["spec"]["template"]["spec"]["containers"]
    tools.parse_command(c["args"])
    s = _settings_of(c)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert ports["http"] == s.api_port and s.api_host == "0.0.0.0"
    assert c["livenessProbe"]["httpGet"]["path"] != "/healthz"  # 503 while rebuilding is no death
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()
    # a drain evicts one replica at a time, and with the default replicas the rest serve
    (pdb,) = _of(objs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1 and api["spec"]["replicas"] - 1 >= 1
    svc = _services(objs)[api["metadata"]["name"]]
    assert svc["spec"]["selector"].items() <= labels.items()
    # any replica answers anything: no affinity of a client to one
    assert svc["spec"].get("sessionAffinity", "None") == "None"
    # the checkpoint on its own writable volume
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert mounts[str(s.checkpoint_dir)] == "checkpoints"


def test_the_api_is_a_statefulset_of_replicas_rolled_one_at_a_time(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objs = rendered
    api = _api(objs)
    spec = api["spec"]
    defaults = yaml.safe_load((tools.CHART / "values.yaml").read_text())
    assert defaults["api"]["replicas"] == spec["replicas"] == 2
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["updateStrategy"]["type"] == "RollingUpdate"
    assert "partition" not in spec["updateStrategy"].get("rollingUpdate", {})  # every replica rolls
    # its governing Service exists and is headless, over the same pods
    headless = _services(objs)[spec["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()


def test_each_api_replica_has_a_checkpoint_claim_of_its_own() -> None:
    objs = tools.render()
    spec = _api(objs)["spec"]
    assert not _of(objs, "PersistentVolumeClaim")  # no claim the replicas would share
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "checkpoints"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    # Kubernetes refuses any change of the claim templates: no label that a new chart or
    # app version changes
    labels = claim["metadata"].get("labels", {})
    assert not {"app.kubernetes.io/version", "helm.sh/chart"} & set(labels)
    assert "checkpoints" not in {v["name"] for v in spec["template"]["spec"]["volumes"]}
    # no claim outlives its replica: a checkpoint nobody sweeps would keep expired visits
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Delete", "whenScaled": "Delete"}


def test_without_persistence_each_api_replica_checkpoints_to_an_empty_dir() -> None:
    objs = tools.render(sets=("api.checkpoint.persistence.enabled=false",))
    spec = _api(objs)["spec"]
    assert "volumeClaimTemplates" not in spec and "persistentVolumeClaimRetentionPolicy" not in spec
    assert not _of(objs, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes["checkpoints"]
    (c,) = spec["template"]["spec"]["containers"]
    assert {m["name"]: m["mountPath"] for m in c["volumeMounts"]}["checkpoints"] == str(_settings_of(c).checkpoint_dir)


def test_api_replicas_beyond_the_itineraries_partitions_are_allowed() -> None:
    """The chart's copy of the itineraries topic's partitions is the catalogue's; more replicas
    than partitions serve reads and event streams (they re-match nothing), so they are allowed
    (NOTES.txt says so; helm template does not render it)."""
    partitions = {spec.name: spec.partitions for spec in topics.catalogue(Settings())}
    n = partitions[topics.itineraries(Settings())]
    api = _api(tools.render())
    assert int(api["metadata"]["annotations"]["truyvet/itineraries-partitions"]) == n
    assert _api(tools.render(sets=(f"api.replicas={n + 1}",)))["spec"]["replicas"] == n + 1
    notes = (tools.CHART / "templates" / "NOTES.txt").read_text()
    assert "truyvet.itinerariesPartitions" in notes and "re-match" in notes


def test_processes_run_as_the_image_user_on_a_read_only_root(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objs = rendered
    uid = tools.dockerfile_user()
    for obj, c in _truyvet_containers(objs):
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == uid
        assert c["securityContext"]["readOnlyRootFilesystem"]
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert str(_settings_of(c).data_dir) in mounts and "/tmp" in mounts
        assert c["image"] == f"truyvet:{tools.project_version()}"


def test_the_strimzi_example_connects_as_each_role_over_tls() -> None:
    objs = tools.render(tools.STRIMZI_VALUES)
    for obj, c in _truyvet_containers(objs):
        s = _settings_of(c)
        assert s.kafka_security_protocol == "SASL_SSL" and not s.manage_topics
        role = {"api": "api", "worker": "worker", "simulator": "simulator"}[c["name"]]
        expected = ADMIN_USER if role == "simulator" else user_of(Settings(), role)
        assert s.kafka_sasl_username == expected
        ref = _env(c)["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": expected, "key": "password"}  # the Secret Strimzi makes per user
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        assert s.kafka_ssl_ca_location.startswith(mounts["kafka-ca"] + "/")


def test_keda_scales_each_job_by_its_own_group_within_its_partitions() -> None:
    objs = tools.render(tools.STRIMZI_VALUES)
    s = Settings()
    groups = topics.pipeline_groups(s)
    partitions = {spec.name: spec.partitions for spec in topics.catalogue(s)}
    workers = _worker_deployments(objs)
    scaled = {o["spec"]["scaleTargetRef"]["name"]: o for o in _of(objs, "ScaledObject")}
    params = tools.kafka_scaler_parameters()
    for job, d in workers.items():
        assert "replicas" not in d["spec"]  # KEDA owns it
        so = scaled[d["metadata"]["name"]]
        (trigger,) = so["spec"]["triggers"]
        assert trigger["type"] == "kafka"
        meta = trigger["metadata"]
        assert set(meta) <= params["triggerMetadata"], set(meta) - params["triggerMetadata"]
        assert meta["consumerGroup"] == f"{s.topic_prefix}-{job}" and meta["consumerGroup"] in groups
        assert so["spec"]["maxReplicaCount"] <= min(partitions[t] for t in groups[meta["consumerGroup"]])
        assert meta["sasl"] == "scram_sha512" and meta["tls"] == "enable"
    (auth,) = _of(objs, "TriggerAuthentication")
    given = {r["parameter"] for r in auth["spec"]["secretTargetRef"] + auth["spec"]["env"]}
    assert given <= params["authParams"] and {"username", "password", "ca"} <= given


@pytest.mark.parametrize("sets, says", [
    (("kafka.securityProtocol=SASL_SSL",), "kafka.users.worker.passwordSecret.name is needed"),
    (("kafka.securityProtocol=TLS",), "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"),
    (("keda.enabled=true", "keda.maxReplicaCount=13"), "more than the 12 partitions"),
])
def test_settings_that_cannot_work_are_refused_in_one_line(sets: tuple[str, ...], says: str) -> None:
    done = tools.run_helm(sets=sets)
    assert done.returncode != 0 and says in done.stderr, done.stderr
