"""deploy/docker-compose.yml: valid for docker-compose, and consistent with riskwatch's settings and topics.

No Docker engine runs in CI; ``docker-compose config`` (Debian's compose 1.29)
validates and resolves the file without one. The topic-initialisation script is
run for real, against a stand-in ``kafka-topics.sh`` that records its arguments.
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_files import DEPLOY, load_yaml, setting_names

from pipeline.cli import build_parser
from pipeline.config import Settings
from pipeline.kafka.kafka_admin import topic_configs
from pipeline.kafka.topics import TopicNames

COMPOSE_FILE = DEPLOY / "docker-compose.yml"
STATE_TOPICS = ("warnings.state", "detector.state", "silences", "devices", "roster")  # the compacted ones
KEYS = {
    "RISKWATCH_STATE_KEY": "compose-test-state-key-0123",
    "RISKWATCH_NOTIFY_ACK_KEY": "compose-test-ack-key-0123",
}
"""The shared keys the file takes from the environment of ``docker compose up``."""


def compose_config(
    docker_compose: str, *options: str, file: Path = COMPOSE_FILE, keys: dict[str, str] = KEYS
) -> subprocess.CompletedProcess[str]:
    """``docker-compose -f FILE [OPTIONS] config [-q]``: options before ``config``, ``-q`` after it;
    ``keys`` in its environment (and no other ``RISKWATCH_*`` of the caller's)."""
    global_options = [o for o in options if o != "-q"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RISKWATCH_")} | keys
    return subprocess.run(
        [docker_compose, "-f", str(file), *global_options, "config", *(["-q"] if "-q" in options else [])],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=environment,
    )


@pytest.fixture(scope="module")
def resolved(docker_compose: str) -> dict[str, Any]:
    """The compose file as docker-compose resolves it (anchors merged, paths absolute)."""
    result = compose_config(docker_compose, "--profile", "simulator")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def workers(resolved: dict[str, Any], command: str = "worker") -> dict[str, dict[str, str]]:
    """Service name → its environment, of every service running ``riskwatch COMMAND``."""
    return {
        name: service["environment"]
        for name, service in resolved["services"].items()
        if service.get("command") == [command]
    }


def settings_of(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a container with ``environment`` would load; unknown RISKWATCH_* names fail."""
    unknown = {k for k in environment if k.startswith("RISKWATCH_")} - setting_names()
    assert unknown == set(), f"not riskwatch settings (ignored silently at run time): {unknown}"
    for key in [k for k in os.environ if k.startswith("RISKWATCH_")]:
        monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, str(value))
    return Settings()


def test_compose_file_is_valid_with_and_without_the_simulator(docker_compose: str) -> None:
    for options in (("-q",), ("--profile", "simulator", "-q")):
        result = compose_config(docker_compose, *options)
        assert result.returncode == 0, result.stderr


def test_docker_compose_rejects_an_invalid_file(docker_compose: str, tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("condition: service_healthy", "condition: healthy"))
    assert compose_config(docker_compose, "-q", file=broken).returncode != 0


def test_two_or_more_workers_share_a_group_on_distinct_ports(
    resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    found = {name: settings_of(env, monkeypatch) for name, env in workers(resolved).items()}
    assert len(found) >= 2
    assert len({s.app_id for s in found.values()}) == 1
    assert len({s.web_port for s in found.values()}) == len(found)
    assert all(s.web_host == "0.0.0.0" and s.bootstrap_servers for s in found.values())
    for name, settings in found.items():
        assert f"127.0.0.1:{settings.web_port}:{settings.web_port}/tcp" in resolved["services"][name]["ports"]


def test_prometheus_scrapes_every_worker(resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {f"{name}:{settings_of(env, monkeypatch).web_port}" for name, env in workers(resolved).items()}
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    job = next(job for job in config["scrape_configs"] if job["job_name"] == "riskwatch")
    assert {target for static in job["static_configs"] for target in static["targets"]} == expected


def test_monitoring_services_mount_the_files_ci_checks(resolved: dict[str, Any]) -> None:
    mounts = {
        volume.split(":")[0]
        for name in ("prometheus", "alertmanager", "grafana")
        for volume in resolved["services"][name]["volumes"]
        if volume.startswith("/")
    }
    for path in ("prometheus", "alertmanager", "grafana/provisioning", "grafana/dashboards"):
        assert str(DEPLOY / path) in mounts


def test_the_simulator_is_an_optional_profile(resolved: dict[str, Any]) -> None:
    simulator = resolved["services"]["simulator"]
    assert simulator["profiles"] == ["simulator"]
    assert simulator["command"][:3] == ["simulate", "--bootstrap", "kafka:9092"]


def test_every_service_of_the_image_runs_a_real_riskwatch_command(resolved: dict[str, Any]) -> None:
    image = resolved["services"]["worker-1"]["image"]
    parser = build_parser()
    for name, service in resolved["services"].items():
        if service.get("image") == image:
            args = parser.parse_args(service["command"])
            assert callable(args.run), name


def run_topic_init(resolved: dict[str, Any], tmp_path: Path) -> list[list[str]]:
    """Run topic-init's script with a stand-in kafka-topics.sh; return each --create call's arguments."""
    service = resolved["services"]["topic-init"]
    assert service["entrypoint"][:2] == ["/bin/bash", "-ec"]
    script = service["command"][0].replace("$$", "$")
    stub_dir = tmp_path / "opt" / "kafka" / "bin"
    stub_dir.mkdir(parents=True)
    calls = tmp_path / "calls"
    stub = stub_dir / "kafka-topics.sh"
    stub.write_text(f'#!/bin/bash\nprintf "%q " "$@" >> {calls}\necho >> {calls}\necho "Topic: stub"\n')
    stub.chmod(0o755)
    result = subprocess.run(
        ["bash", "-ec", script.replace("/opt/kafka/bin/", f"{stub_dir}/")],
        env={"PATH": os.environ["PATH"], **{k: str(v) for k, v in service["environment"].items()}},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [shlex.split(line) for line in calls.read_text().splitlines() if "--create" in line]


def options(call: list[str]) -> tuple[str, dict[str, str], dict[str, str]]:
    """(topic, flags, topic configs) of one kafka-topics.sh call."""
    flags: dict[str, str] = {}
    configs: dict[str, str] = {}
    for flag, value in itertools.pairwise(call):
        if flag == "--config":
            key, _, setting = value.partition("=")
            configs[key] = setting
        elif flag.startswith("--"):
            flags[flag] = value
    return flags["--topic"], flags, configs


def test_topic_init_creates_every_topic_as_the_workers_expect(
    resolved: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(next(iter(workers(resolved).values())), monkeypatch)
    names = TopicNames.from_settings(settings)
    created = {
        topic: (flags, configs) for topic, flags, configs in map(options, run_topic_init(resolved, tmp_path))
    }
    state = {f"{settings.topic_prefix}{name}" for name in STATE_TOPICS}
    assert set(created) == set(names.all()) | state
    for topic, (flags, configs) in created.items():
        assert "--if-not-exists" in flags, f"{topic}: a second run must leave existing topics alone"
        assert int(flags["--partitions"]) == settings.partitions, topic
        assert int(flags["--replication-factor"]) == settings.replication_factor, topic
        if topic in state:
            assert configs["cleanup.policy"] == "compact", topic
        else:
            assert int(configs["retention.ms"]) > 0 and "cleanup.policy" not in configs, topic
    for topic, (_, configs) in created.items():
        expected = topic_configs(settings, topic)
        assert {key: configs.get(key) for key in expected} == expected, f"{topic}: differs from the worker's"


def test_every_worker_pushes_to_the_compose_alertmanager_with_links_that_open_from_the_host(
    resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    alertmanager = resolved["services"]["alertmanager"]
    assert any(str(port).startswith("127.0.0.1:9093:9093") for port in alertmanager["ports"])
    for name, environment in workers(resolved).items():
        settings = settings_of(environment, monkeypatch)
        assert settings.alertmanager.urls == ("http://alertmanager:9093",), name
        assert settings.alert_links_url == f"http://localhost:{settings.web_port}", name


def test_the_stack_will_not_start_without_the_shared_keys(docker_compose: str) -> None:
    for missing in KEYS:
        result = compose_config(docker_compose, "-q", keys={k: v for k, v in KEYS.items() if k != missing})
        assert result.returncode != 0 and missing in result.stderr, missing


def test_notify_shares_the_workers_broker_topics_and_ack_key_and_links_to_a_worker(
    resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    (environment,) = workers(resolved, "notify").values()
    notify = settings_of(environment, monkeypatch)
    found = [settings_of(env, monkeypatch) for env in workers(resolved).values()]
    for worker in found:
        shared = ("bootstrap_servers", "app_id", "topic_prefix", "partitions", "replication_factor")
        assert [getattr(notify, name) for name in shared] == [getattr(worker, name) for name in shared]
        assert notify.notify.ack_key is not None and worker.notify.ack_key is not None
        assert notify.notify.ack_key.get_secret_value() == worker.notify.ack_key.get_secret_value()
    assert notify.notify.ack_key.get_secret_value() == KEYS["RISKWATCH_NOTIFY_ACK_KEY"]
    assert notify.ack_links_url in {f"http://localhost:{w.web_port}" for w in found}
    assert notify.notify.host == "0.0.0.0"
    port = notify.notify.port
    assert f"127.0.0.1:{port}:{port}/tcp" in resolved["services"]["notify"]["ports"]
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    job = next(job for job in config["scrape_configs"] if job["job_name"] == "riskwatch-notify")
    assert job["static_configs"] == [{"targets": [f"notify:{port}"]}]
    healthcheck = " ".join(resolved["services"]["notify"]["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/metrics" in healthcheck and "riskwatch_notify_ready 1.0" in healthcheck


def test_workers_share_one_checkpoint_key(resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    keys = {settings_of(env, monkeypatch).state_key for env in workers(resolved).values()}
    assert {k.get_secret_value() if k else None for k in keys} == {KEYS["RISKWATCH_STATE_KEY"]}
