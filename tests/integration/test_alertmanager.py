"""A real worker pushes a warning to a real Alertmanager, whose webhook receiver delivers it.

Alertmanager comes from Debian's ``prometheus-alertmanager`` package (installed by
tests/setup/system-packages.sh), listens on a free loopback port without clustering,
groups per community and hazard with no group wait and a one-second group interval, and
sends every notification (resolved ones too) to an HTTP server in this test. The worker
runs with ``RISKWATCH_ALERTMANAGER_URL`` pointing at it; the incident is the one of
test_incident_lifecycle: opened at II, escalated to I, back down and resolved.
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer

from pipeline.alerting.settings import AlertmanagerSettings
from pipeline.assess.config import AssessmentConfig, Community
from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port, wait_for_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.processes import ManagedProcess
from pipeline.worker_process import WorkerProcess
from schemas import WarningChange
from tests.integration.conftest import ARTIFACTS, await_condition, isolated_settings, publish
from tests.integration.test_incident_lifecycle import calm, corroborate, reading, revisions
from tests.setup.system_tools import require_tool

COMMUNITY = "c-paged"
Alert = dict[str, Any]


class WebhookReceiver:
    """An HTTP server on loopback that keeps every JSON body POSTed to it (Alertmanager's webhooks)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver._lock:
                    receiver.bodies.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads what arrived, not a log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def delivered(self) -> list[tuple[str, Alert]]:
        """(notification status, alert) of every alert delivered so far, in order."""
        with self._lock:
            return [(body["status"], alert) for body in self.bodies for alert in body["alerts"]]


class Alertmanager(ManagedProcess):
    """``prometheus-alertmanager`` on a free loopback port, its one receiver a webhook (or nothing)."""

    def __init__(self, binary: str, home: Path, webhook_url: str | None) -> None:
        super().__init__()
        self.binary = binary
        self.home = home
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_file = ARTIFACTS / f"alertmanager-{home.name}.log"
        webhook = {"webhook_configs": [{"url": webhook_url, "send_resolved": True}]} if webhook_url else {}
        self.config = {
            "route": {
                "receiver": "test-webhook",
                "group_by": ["alertname", "community", "hazard"],
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [{"name": "test-webhook", **webhook}],
        }

    def start(self) -> None:
        """Write the configuration and start Alertmanager (clustering off: one instance)."""
        (self.home / "alertmanager.yml").write_text(yaml.safe_dump(self.config))
        ARTIFACTS.mkdir(exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.popen(
                [
                    self.binary,
                    f"--config.file={self.home / 'alertmanager.yml'}",
                    f"--storage.path={self.home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--cluster.listen-address=",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The running Alertmanager, once started."""
        return self._process

    def alerts(self, community: str = COMMUNITY) -> list[Alert]:
        """The active alerts of ``community`` (``GET /api/v2/alerts``: resolved ones are not listed)."""
        query = f'filter=community="{community}"'.replace('"', "%22")
        with urllib.request.urlopen(f"{self.base_url}/api/v2/alerts?{query}", timeout=5) as response:
            found: list[Alert] = json.load(response)
        return found


def ready(base_url: str) -> bool:
    with urllib.request.urlopen(f"{base_url}/-/ready", timeout=2) as response:
        return bool(response.status == 200)


@pytest.fixture(scope="module")
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    thread.join(10)


@contextmanager
def running(home: Path, webhook_url: str | None) -> Iterator[Alertmanager]:
    """An Alertmanager, started and ready."""
    binary = require_tool("prometheus-alertmanager", "prometheus-alertmanager")
    with Alertmanager(binary, home, webhook_url) as started:
        assert wait_for_port("127.0.0.1", started.port, 30, started.process), (
            f"Alertmanager did not start:\n{started.log_tail()}"
        )
        await_condition(lambda: ready(started.base_url), 30, "Alertmanager never reported ready")
        yield started


@pytest.fixture(scope="module")
def alertmanager(
    webhook: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Alertmanager]:
    """The Alertmanager whose webhook receiver the test listens to."""
    with running(tmp_path_factory.mktemp("am-1"), webhook.url) as started:
        yield started


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    """The other one of an HA pair (not clustered here: it must get every alert itself)."""
    with running(tmp_path_factory.mktemp("am-2"), None) as started:
        yield started


@pytest.fixture(scope="module")
def worker_settings(
    broker: EmbeddedBroker,
    alertmanager: Alertmanager,
    peer: Alertmanager,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    """This module's worker pushes to both Alertmanagers above. It re-pushes every 30 s, so an alert
    pushed lasts 2 minutes: one that ends within the test's deadlines was ended, not left to expire."""
    settings = isolated_settings(
        broker,
        tmp_path_factory.mktemp("worker"),
        alertmanager=AlertmanagerSettings(
            url=f"{alertmanager.base_url},{peer.base_url}", resend_interval_s=30.0
        ),
        assessment=AssessmentConfig(
            communities={COMMUNITY: Community(description="Riverside", district_id="d-river")}
        ),
    )
    ensure_topics(settings, broker.bootstrap_servers)
    return settings


def one_alert(alertmanager: Alertmanager, tier: str) -> Alert | None:
    """The community's only active alert, if that is one of ``tier``."""
    alerts = alertmanager.alerts()
    return alerts[0] if len(alerts) == 1 and alerts[0]["labels"]["tier"] == tier else None


def delivered(webhook: WebhookReceiver, status: str, tier: str) -> bool:
    return any(s == status and a["labels"]["tier"] == tier for s, a in webhook.delivered())


def test_a_warning_pages_through_alertmanager_from_opening_to_resolution(
    worker: WorkerProcess,
    broker: EmbeddedBroker,
    producer: KafkaProducer,
    topics: TopicNames,
    alertmanager: Alertmanager,
    peer: Alertmanager,
    webhook: WebhookReceiver,
) -> None:
    assert alertmanager.alerts() == peer.alerts() == []
    publish(producer, topics.readings, COMMUNITY, calm(COMMUNITY, range(60), seed=1))
    publish(producer, topics.readings, COMMUNITY, [reading(COMMUNITY, "wl-a", m, 3.2) for m in (60, 61, 62)])
    [opened] = revisions(broker, topics, COMMUNITY, lambda ws: len(ws) >= 1)
    assert opened.change is WarningChange.OPENED and opened.tier.name == "II"

    await_condition(lambda: one_alert(alertmanager, "II") is not None, 30, "the tier II alert is active")
    [alert] = alertmanager.alerts()
    assert {k: v for k, v in alert["labels"].items() if k != "severity"} == {
        "alertname": "RiskwatchWarning",
        "team": "operations",
        "community": COMMUNITY,
        "district": "d-river",
        "hazard": "flood",
        "tier": "II",
        "warning_id": opened.warning_id,
    }
    assert alert["labels"]["severity"] in {"Minor", "Moderate", "Severe", "Extreme"}
    ends_in = datetime.fromisoformat(alert["endsAt"]) - datetime.now(UTC)
    assert timedelta(seconds=60) < ends_in <= timedelta(minutes=2), "four re-push intervals ahead"
    annotations = alert["annotations"]
    assert annotations["summary"] == "II orange flood warning: Riverside"
    assert "wl-a" in annotations["description"], "the evidence names the gauge"
    assert annotations["cap_url"] == f"{worker.base_url}/api/cap/{opened.warning_id}"
    assert annotations["console_url"] == f"{worker.base_url}/console"
    with urllib.request.urlopen(annotations["cap_url"], timeout=10) as response:
        assert b"<identifier>" + opened.warning_id.encode() in response.read(), "the CAP link works"
    await_condition(lambda: delivered(webhook, "firing", "II"), 30, "the webhook got the tier II alert")
    await_condition(lambda: one_alert(peer, "II") is not None, 30, "the HA peer has the alert too")

    # Corroborating reports and the second gauge: the same warning escalates to I.
    corroborate(worker, producer, topics, COMMUNITY)
    publish(producer, topics.readings, COMMUNITY, [reading(COMMUNITY, "wl-b", m, 3.5) for m in (64, 65, 66)])
    await_condition(
        lambda: one_alert(alertmanager, "I") is not None,
        30,
        "tier I replaced tier II among the active alerts",
    )
    escalated = one_alert(alertmanager, "I")
    assert escalated is not None and escalated["labels"]["warning_id"] == opened.warning_id
    await_condition(lambda: delivered(webhook, "firing", "I"), 30, "the webhook got the tier I alert")
    await_condition(lambda: one_alert(peer, "I") is not None, 30, "the HA peer escalated too")

    # Back to calm: down the ladder and resolved; Alertmanager lists nothing and says so.
    publish(producer, topics.readings, COMMUNITY, calm(COMMUNITY, range(67, 100), seed=2))
    history = revisions(
        broker, topics, COMMUNITY, lambda ws: bool(ws) and ws[-1].change is WarningChange.RESOLVED
    )
    assert {w.warning_id for w in history} == {opened.warning_id}
    await_condition(
        lambda: alertmanager.alerts() == peer.alerts() == [],
        30,
        "both ended the resolved warning's alerts",
    )
    await_condition(
        lambda: webhook.bodies[-1]["status"] == "resolved", 30, "the webhook heard the warning is over"
    )
    last = webhook.bodies[-1]
    assert last["groupLabels"] == {"alertname": "RiskwatchWarning", "community": COMMUNITY, "hazard": "flood"}
    assert all(a["status"] == "resolved" for a in last["alerts"])
    assert {a["labels"]["warning_id"] for a in last["alerts"]} == {opened.warning_id}


def assessment_states_written(worker: WorkerProcess) -> float:
    """Assessment states the worker has checkpointed so far."""
    return total(scrape(worker.base_url), "riskwatch_checkpoint_records_total", state="assessment")


def test_a_worker_that_takes_over_pushes_the_open_warnings_at_once(
    worker: WorkerProcess,
    worker_settings: Settings,
    broker: EmbeddedBroker,
    producer: KafkaProducer,
    topics: TopicNames,
    alertmanager: Alertmanager,
) -> None:
    """The successor re-pushes every 10 minutes: an update within a minute is its takeover push.

    Runs last in the module: it replaces the module's worker.
    """
    community = "c-taken-over"
    publish(producer, topics.readings, community, calm(community, range(60), seed=3))
    publish(producer, topics.readings, community, [reading(community, "wl-a", m, 3.2) for m in (60, 61, 62)])
    await_condition(lambda: len(alertmanager.alerts(community)) == 1, 30, "the warning's alert is active")
    [before] = alertmanager.alerts(community)
    # Hand over as a rebalance does: from a checkpoint that holds the warning (a successor that
    # has to replay re-derives it without re-emitting it, and pushes it at its next re-push).
    checkpointed = assessment_states_written(worker)
    await_condition(
        lambda: assessment_states_written(worker) > checkpointed, 30, "a checkpoint holds the warning"
    )

    worker.stop()
    successor_settings = worker_settings.model_copy(
        update={"alertmanager": worker_settings.alertmanager.model_copy(update={"resend_interval_s": 600.0})}
    )
    with WorkerProcess(successor_settings, worker.log_file) as successor:
        successor.wait_ready(60)
        await_condition(
            lambda: alertmanager.alerts(community)[0]["updatedAt"] > before["updatedAt"],
            60,
            "the successor pushed the restored warning",
        )
    [after] = alertmanager.alerts(community)
    assert after["labels"] == before["labels"], "the same warning, at the same tier"
