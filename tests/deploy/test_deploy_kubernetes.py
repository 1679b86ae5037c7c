"""deploy/kubernetes/: every manifest validated offline, and the pieces agree with each other.

Core kinds: ``kubernetes-validate --strict`` (the Kubernetes OpenAPI schemas it ships).
Custom resources (Strimzi, KEDA, Prometheus Operator): the JSON Schemas vendored in
deploy/schemas/kubernetes/ (see its README for their source).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from deploy_files import DEPLOY, load_yaml, load_yaml_documents, setting_names

from pipeline.cli import build_parser
from pipeline.config import Settings
from pipeline.kafka.kafka_admin import topic_configs
from pipeline.kafka.topics import TopicNames

MANIFESTS = DEPLOY / "kubernetes"
CRD_SCHEMAS = DEPLOY / "schemas" / "kubernetes"
STATE_TOPICS = ("warnings.state", "detector.state", "silences", "devices", "roster")  # the compacted ones


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")


@cache
def resources() -> tuple[dict[str, Any], ...]:
    return tuple(doc for path in manifest_files() for doc in load_yaml_documents(path))


def only(kind: str, component: str | None = None) -> dict[str, Any]:
    """The one resource of ``kind`` (of ``component``, its ``app.kubernetes.io/component`` label)."""
    (found,) = [
        r
        for r in resources()
        if r["kind"] == kind
        and component in (None, r["metadata"].get("labels", {}).get("app.kubernetes.io/component"))
    ]
    return found


def crd_schema(resource: dict[str, Any]) -> dict[str, Any] | None:
    group_version = resource["apiVersion"].replace("/", "-")
    path = CRD_SCHEMAS / f"{group_version}-{resource['kind']}.schema.json"
    return json.loads(path.read_text()) if path.exists() else None


def validate(resource: dict[str, Any]) -> None:
    """Raise if ``resource`` is invalid: the vendored CRD schema, else the Kubernetes schema."""
    schema = crd_schema(resource)
    if schema is not None:
        jsonschema.validate(resource, schema, cls=jsonschema.Draft202012Validator)
    else:
        kubernetes_validate.validate(resource, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("resource", resources(), ids=lambda r: f"{r['kind']}/{r['metadata']['name']}")
def test_every_manifest_is_valid(resource: dict[str, Any]) -> None:
    validate(resource)


def test_every_custom_resource_has_a_vendored_schema() -> None:
    # Built-in API groups have no dot ("apps/v1", "policy/v1", "v1") or end in .k8s.io.
    custom = [
        r for r in resources() if "." in r["apiVersion"].split("/")[0] and ".k8s.io/" not in r["apiVersion"]
    ]
    assert [r["kind"] for r in custom if crd_schema(r) is None] == []
    assert {"Kafka", "KafkaTopic", "KafkaUser", "ScaledObject", "PodMonitor"} <= {r["kind"] for r in custom}


@pytest.mark.parametrize(
    ("kind", "misspell"),
    [
        ("Deployment", lambda r: r["spec"]["template"]["spec"]["containers"][0].update(readinesProbe={})),
        ("ScaledObject", lambda r: r["spec"].update(maxReplicas=12)),
        ("KafkaUser", lambda r: r["spec"]["authentication"].update(type="scram-sha-256")),
        ("PodMonitor", lambda r: r["spec"]["podMetricsEndpoints"][0].update(interval="15 seconds")),
    ],
)
def test_a_misspelt_field_is_rejected(kind: str, misspell: Any) -> None:
    broken = copy.deepcopy(next(r for r in resources() if r["kind"] == kind))
    misspell(broken)
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
        validate(broken)


def test_kustomization_lists_every_manifest() -> None:
    listed = load_yaml(MANIFESTS / "kustomization.yaml")["resources"]
    assert sorted(listed) == [p.name for p in manifest_files()]


def worker_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    data = only("ConfigMap", "worker")["data"]
    assert set(data) - setting_names() == set(), "unknown RISKWATCH_* names are silently ignored at run time"
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    return Settings()


def topics() -> list[dict[str, Any]]:
    return [r for r in resources() if r["kind"] == "KafkaTopic"]


def test_topics_partitions_and_autoscaling_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = worker_settings(monkeypatch)
    partitions = {t["spec"]["partitions"] for t in topics()}
    assert partitions == {settings.partitions}, "one partition count for every topic keyed by community"
    scaled = only("ScaledObject")["spec"]
    assert scaled["maxReplicaCount"] == settings.partitions, "more workers than partitions sit idle"
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"]
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == settings.app_id
    assert trigger["metadata"]["allowIdleConsumers"] == "false"
    assert trigger["metadata"]["topic"] in {t["spec"]["topicName"] for t in topics()}
    assert scaled["scaleTargetRef"]["name"] == only("Deployment", "worker")["metadata"]["name"]


def test_state_topics_are_compacted_and_every_topic_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = worker_settings(monkeypatch)
    by_name = {t["spec"]["topicName"]: t["spec"] for t in topics()}
    state = {f"{settings.topic_prefix}{name}" for name in STATE_TOPICS}
    assert set(by_name) == set(TopicNames.from_settings(settings).all()) | state
    for name, spec in by_name.items():
        assert (spec["config"].get("cleanup.policy") == "compact") == (name in state), name
        assert spec["replicas"] == settings.replication_factor, name
        expected = topic_configs(settings, name)
        assert {key: str(spec["config"].get(key)) for key in expected} == expected, name


def test_kafka_offers_scram_and_every_user_uses_it() -> None:
    listeners = only("Kafka")["spec"]["kafka"]["listeners"]
    assert any(
        listener.get("authentication", {}).get("type") == "scram-sha-512" and listener["tls"]
        for listener in listeners
    )
    users = [r for r in resources() if r["kind"] == "KafkaUser"]
    assert users and all(u["spec"]["authentication"]["type"] == "scram-sha-512" for u in users)
    keda_secrets = {ref["name"] for ref in only("TriggerAuthentication")["spec"]["secretTargetRef"]}
    assert keda_secrets & {u["metadata"]["name"] for u in users}, "KEDA authenticates as a KafkaUser"


def test_workers_are_probed_sized_and_selected_consistently(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = worker_settings(monkeypatch)
    deployment = only("Deployment", "worker")
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    (container,) = pod["spec"]["containers"]
    assert callable(build_parser().parse_args(container["args"]).run)
    assert container["ports"][0]["containerPort"] == settings.web_port and settings.web_host == "0.0.0.0"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] != "/ready", "a rebalance must not restart workers"
    assert {"requests", "limits"} <= set(container["resources"])
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert str(settings.data_dir) in {m["mountPath"] for m in container["volumeMounts"]}
    for kind in ("PodDisruptionBudget", "PodMonitor"):
        assert only(kind, "worker")["spec"]["selector"]["matchLabels"].items() <= labels.items(), kind
    assert only("Service")["spec"]["selector"].items() <= labels.items()
    podmonitor = only("PodMonitor", "worker")
    assert podmonitor["spec"]["podMetricsEndpoints"][0]["port"] == container["ports"][0]["name"]


def test_workers_push_to_every_alertmanager_of_the_pair_and_link_through_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = worker_settings(monkeypatch)
    urls = settings.alertmanager.urls
    assert len(urls) == 2 and all(url.endswith(":9093") for url in urls)
    service = only("Service")
    port = service["spec"]["ports"][0]["port"]
    host = f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    assert settings.alert_links_url == settings.ack_links_url == f"http://{host}:{port}"


def container_of(component: str) -> dict[str, Any]:
    (container,) = only("Deployment", component)["spec"]["template"]["spec"]["containers"]
    return container


def secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Variable → (Secret, key) of every variable the container takes from a Secret."""
    return {
        env["name"]: (ref["name"], ref["key"])
        for env in container.get("env", [])
        if (ref := env.get("valueFrom", {}).get("secretKeyRef"))
    }


def test_notify_and_the_workers_share_one_ack_key_and_the_workers_one_state_key() -> None:
    worker, notify = secret_refs(container_of("worker")), secret_refs(container_of("notify"))
    assert notify["RISKWATCH_NOTIFY_ACK_KEY"] == worker["RISKWATCH_NOTIFY_ACK_KEY"]
    assert "RISKWATCH_STATE_KEY" in worker, "workers taking over partitions must share one checkpoint key"
    assert set(worker) | set(notify) <= setting_names()


def test_notify_runs_with_the_workers_settings_and_is_scraped_and_probed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container = container_of("notify")
    assert callable(build_parser().parse_args(container["args"]).run)
    assert container["args"] == ["notify"]
    sources = [source["configMapRef"]["name"] for source in container["envFrom"]]
    maps = {r["metadata"]["name"]: r["data"] for r in resources() if r["kind"] == "ConfigMap"}
    assert sources[0] == only("ConfigMap", "worker")["metadata"]["name"], "broker and topics as the workers'"
    for name in sources:  # later sources win, as in Kubernetes
        assert set(maps[name]) - setting_names() == set(), f"{name}: unknown names are ignored at run time"
        for key, value in maps[name].items():
            monkeypatch.setenv(key, value)
    settings = Settings().notify
    (port,) = container["ports"]
    assert settings.host == "0.0.0.0" and port["containerPort"] == settings.port
    probe = " ".join(container["readinessProbe"]["exec"]["command"])
    assert f"127.0.0.1:{settings.port}/metrics" in probe and "riskwatch_notify_ready 1.0" in probe
    pod = only("Deployment", "notify")["spec"]["template"]
    monitor = only("PodMonitor", "notify")["spec"]
    assert monitor["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert monitor["podMetricsEndpoints"][0]["port"] == port["name"]
    worker_pod = only("Deployment", "worker")["spec"]["template"]["metadata"]["labels"]
    for kind in ("PodDisruptionBudget", "PodMonitor", "Service"):
        spec = only(kind, "worker")["spec"]
        selector = spec["selector"].get("matchLabels", spec["selector"])
        assert not selector.items() <= pod["metadata"]["labels"].items(), f"{kind} must not pick notify"
        assert selector.items() <= worker_pod.items()
