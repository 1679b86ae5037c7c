"""A real Prometheus scrapes a real worker: a warning shows in its query API and fires the alert rule.

Prometheus comes from Debian's ``prometheus`` package (installed by
tests/setup/system-packages.sh), listens on a free loopback port, keeps its
storage in the test's temporary directory, scrapes every second and evaluates
riskwatch's own rules file from deploy/prometheus/rules/.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer

from pipeline.config import Settings
from pipeline.kafka.broker import free_port, wait_for_port
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess
from tests.integration.conftest import ARTIFACTS, await_condition, publish
from tests.integration.test_end_to_end import quiet, readings
from tests.setup.system_tools import require_tool

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules" / "riskwatch.rules.yml"

Sample = dict[str, Any]


class Prometheus:
    """A Prometheus server process and its HTTP query API."""

    def __init__(self, base_url: str, process: subprocess.Popen[bytes]) -> None:
        self.base_url = base_url
        self.process = process

    def query(self, promql: str) -> list[Sample]:
        """The instant vector ``promql`` evaluates to now."""
        url = f"{self.base_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        result: list[Sample] = body["data"]["result"]
        return result

    def wait_for(
        self, promql: str, done: Callable[[list[Sample]], bool], timeout_s: float = 60.0
    ) -> list[Sample]:
        """Poll ``promql`` until ``done(result)`` holds; fail with the last result."""
        deadline = time.monotonic() + timeout_s
        result: list[Sample] = []
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "Prometheus exited; see test-artifacts/prometheus.log"
            result = self.query(promql)
            if done(result):
                return result
            time.sleep(0.25)
        raise AssertionError(f"{promql!r} did not reach the expected result within {timeout_s} s: {result}")


def ready(base_url: str) -> bool:
    """Prometheus's readiness endpoint answers 200 (503, an HTTPError, while it starts)."""
    with urllib.request.urlopen(f"{base_url}/-/ready", timeout=2) as response:
        return bool(response.status == 200)


@pytest.fixture(scope="module")
def prometheus(
    worker: WorkerProcess, worker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    """Prometheus scraping this module's worker every second, with riskwatch's rules."""
    binary = require_tool("prometheus", "prometheus")
    home = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": "riskwatch",
                "static_configs": [{"targets": [f"127.0.0.1:{worker_settings.web_port}"]}],
            }
        ],
    }
    (home / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "prometheus.log", "ab") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={home / 'prometheus.yml'}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        assert wait_for_port("127.0.0.1", port, 30, process), "Prometheus did not start; see its log"
        base_url = f"http://127.0.0.1:{port}"
        # The port opens before the query API serves (it answered 503 once right after start).
        await_condition(lambda: ready(base_url), 30, "Prometheus never reported ready")
        yield Prometheus(base_url, process)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_prometheus_sees_a_warning_and_fires_the_alert(
    prometheus: Prometheus, producer: KafkaProducer, topics: TopicNames
) -> None:
    prometheus.wait_for('up{job="riskwatch"}', lambda r: [s["value"][1] for s in r] == ["1"])
    prometheus.wait_for("riskwatch_broker_connected", lambda r: [s["value"][1] for s in r] == ["1"])
    assert prometheus.query("riskwatch_warning_changes_total") == [], "no warning before the incident"

    # A sustained 1.4 m rise (severe on the flood scale): the ladder enters on 2 of 3.
    incident = [*quiet(60, 2.0, 0.01, 11), 3.4, 3.4, 3.4]
    publish(producer, topics.readings, "c-scraped", readings("c-scraped", incident))

    opened = prometheus.wait_for(
        'sum by (tier) (riskwatch_warning_changes_total{change="opened"})', lambda r: len(r) == 1
    )
    tier = opened[0]["metric"]["tier"]
    assert tier in {"I", "II"} and float(opened[0]["value"][1]) == 1
    events = prometheus.query('riskwatch_events_received_total{kind="sensor_reading"}')
    assert float(events[0]["value"][1]) == len(incident)
    assert events[0]["metric"]["topic"] == topics.readings
    silent_for = prometheus.query(
        'time() - riskwatch_community_last_event_timestamp_seconds{community="c-scraped"}'
    )
    assert 0 <= float(silent_for[0]["value"][1]) < 60, "the community was just heard from"

    firing = prometheus.wait_for(
        'ALERTS{alertname="RiskwatchSeriousWarningRaised", alertstate="firing"}', lambda r: len(r) == 1
    )
    assert firing[0]["metric"]["tier"] == tier
    assert firing[0]["metric"]["team"] == "operations"
