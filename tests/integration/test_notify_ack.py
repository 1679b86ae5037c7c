"""From a reading to a phone and back: a real worker raises a warning, ``riskwatch notify`` delivers
it to a webhook with a signed link, the link acknowledges it through ``riskwatch.feedback``; an
expired, forged or reused link is refused with a page; the console and ``riskwatch review`` show
who was told and who answered."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer

from pipeline.broker import EmbeddedBroker, free_port
from pipeline.config import Settings
from pipeline.kafka_admin import ensure_topics
from pipeline.notify.process import NotifyProcess
from pipeline.notify.signing import AckClaim, issue_token
from pipeline.topics import TopicNames
from pipeline.worker_process import WorkerProcess, settings_environment
from schemas import Feedback, FeedbackAction, RiskWarning
from tests.integration.conftest import ARTIFACTS, await_condition, isolated_settings, publish, read_until
from tests.integration.notify_receivers import HttpReceiver
from tests.integration.test_end_to_end import readings
from tests.integration.test_notify import import_roster

ACK_KEY = "ack-key-of-the-test-0123456789"


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def worker_settings(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    port = free_port()
    settings = isolated_settings(
        broker,
        tmp_path_factory.mktemp("ack"),
        web_port=port,
        notify={"port": free_port(), "console_url": f"http://127.0.0.1:{port}", "ack_key": ACK_KEY},
    )
    ensure_topics(settings, broker.bootstrap_servers)
    return settings


def fetch(url: str, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_link_in_a_delivered_warning_acknowledges_it_once(
    worker: WorkerProcess,
    worker_settings: Settings,
    broker: EmbeddedBroker,
    producer: KafkaProducer,
    topics: TopicNames,
    receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    import_roster(
        worker_settings, tmp_path, f"li,Li Na,c-ack,community_office,webhook,{receiver.url('/ok/li')}\n"
    )
    with NotifyProcess(worker_settings, ARTIFACTS / f"notify-{worker_settings.app_id}.log") as notify:
        notify.wait_ready()
        rng = random.Random(5)
        values = [*(1.0 + rng.gauss(0, 0.005) for _ in range(60)), 1.3, 1.3, 1.3]
        publish(producer, topics.readings, "c-ack", readings("c-ack", values))
        await_condition(lambda: bool(receiver.received("/ok/li")), 60, "the phone's webhook got the warning")
    body = json.loads(receiver.received("/ok/li")[0].body)
    warning_id, link = body["notification"]["warning_id"], body["ack_url"]
    assert link.startswith(f"{worker.base_url}/ack/")

    status, page = fetch(link)
    assert status == 200 and warning_id in page and 'id="confirm"' in page
    status, page = fetch(link, "POST")
    assert status == 200 and "Acknowledged" in page

    def acknowledged(records: list[object]) -> bool:
        return any(
            RiskWarning.model_validate_json(r.value).warning_id == warning_id  # type: ignore[attr-defined]
            and RiskWarning.model_validate_json(r.value).status.value == "acknowledged"  # type: ignore[attr-defined]
            for r in records
        )

    read_until(broker, topics.warnings, acknowledged, timeout_s=30)
    (feedback,) = [
        f
        for f in (Feedback.model_validate_json(r.value) for r in read_until(broker, topics.feedback, bool))
        if f.warning_id == warning_id
    ]
    assert (feedback.action, feedback.operator) == (FeedbackAction.ACKNOWLEDGE, "Li Na (link)")

    status, page = fetch(link, "POST")
    assert status == 409 and "already used" in page
    assert fetch(link)[0] == 409

    claims = link.rsplit("/", 1)[1]
    expired = issue_token(
        ACK_KEY.encode(), AckClaim(warning_id, 2, "li", datetime.now(UTC) - timedelta(seconds=1))
    )
    status, page = fetch(f"{worker.base_url}/ack/{expired}")
    assert status == 403 and "expired" in page
    forged = issue_token(
        b"not-the-key-0123456789", AckClaim(warning_id, 1, "li", datetime.now(UTC) + timedelta(hours=1))
    )
    status, page = fetch(f"{worker.base_url}/ack/{forged}", "POST")
    assert status == 403 and "not issued by riskwatch" in page
    status, page = fetch(f"{worker.base_url}/ack/{claims[:10]}")
    assert status == 403

    def response_shown() -> bool:
        _, text = fetch(f"{worker.base_url}/api/warnings/{warning_id}/response")
        rows = json.loads(text)["response"]
        return any(
            r["recipient_id"] == "li" and r["outcome"] == "delivered" and r["acknowledged_at"] for r in rows
        )

    await_condition(response_shown, 30, "the console shows Li Na was told by webhook and acknowledged")
    env = {**settings_environment(worker_settings)}
    review = subprocess.run(
        [sys.executable, "-m", "pipeline", "review", warning_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "opened to Li Na (li) by webhook: delivered after 1 attempt(s); acknowledged" in review.stdout
