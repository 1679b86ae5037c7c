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
from typing import Any

import pytest
from kafka import KafkaProducer
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.notify.process import NotifyProcess
from pipeline.notify.signing import AckClaim, issue_token
from pipeline.worker_process import WorkerProcess, settings_environment
from schemas import Feedback, FeedbackAction, RiskWarning, WarningChange
from tests.integration.conftest import ARTIFACTS, await_condition, isolated_settings, publish, read_until
from tests.integration.notify_receivers import HttpReceiver
from tests.integration.test_console_browser import browser  # noqa: F401 - the fixture
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


@pytest.fixture(scope="module")
def notify(worker_settings: Settings) -> Iterator[NotifyProcess]:
    with NotifyProcess(worker_settings, ARTIFACTS / f"notify-{worker_settings.app_id}.log") as running:
        running.wait_ready()
        yield running


def raise_warning(
    producer: KafkaProducer, topics: TopicNames, receiver: HttpReceiver, community: str, path: str
) -> dict[str, object]:
    """Readings that open a warning in ``community``; the webhook body notify delivered for it."""
    rng = random.Random(5)
    values = [*(1.0 + rng.gauss(0, 0.005) for _ in range(60)), 1.3, 1.3, 1.3]
    publish(producer, topics.readings, community, readings(community, values))
    await_condition(lambda: bool(receiver.received(path)), 60, "the phone's webhook got the warning")
    body: dict[str, object] = json.loads(receiver.received(path)[0].body)
    return body


def fetch(url: str, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_link_in_a_delivered_warning_acknowledges_it_once(
    worker: WorkerProcess,
    notify: NotifyProcess,
    worker_settings: Settings,
    broker: EmbeddedBroker,
    producer: KafkaProducer,
    topics: TopicNames,
    receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    import_roster(
        worker_settings,
        tmp_path,
        f"li,Li Na,c-ack,community_office,webhook,{receiver.url('/ok/li')}\n"
        f"zhao,Zhao Lei,c-ack-b,community_office,webhook,{receiver.url('/ok/zhao')}\n",
    )
    body = raise_warning(producer, topics, receiver, "c-ack", "/ok/li")
    warning_id = str(body["notification"]["warning_id"])  # type: ignore[index]
    link = str(body["ack_url"])
    assert link.startswith(f"{worker.base_url}/ack/")

    status, page = fetch(link)
    assert status == 200 and warning_id in page and 'id="confirm"' in page
    status, page = fetch(link, "POST")
    assert status == 200 and "Acknowledged" in page

    def acknowledged(records: list[Any]) -> bool:
        revisions = [RiskWarning.model_validate_json(r.value) for r in records]
        return any(w.warning_id == warning_id and w.change is WarningChange.ACKNOWLEDGED for w in revisions)

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


def test_a_responder_acknowledges_in_the_browser_and_the_console_shows_it(
    worker: WorkerProcess,
    notify: NotifyProcess,
    producer: KafkaProducer,
    topics: TopicNames,
    receiver: HttpReceiver,
    browser: webdriver.Chrome,  # noqa: F811 - the fixture imported above
) -> None:
    body = raise_warning(producer, topics, receiver, "c-ack-b", "/ok/zhao")
    warning_id = str(body["notification"]["warning_id"])  # type: ignore[index]
    browser.get(str(body["ack_url"]))
    wait = WebDriverWait(browser, 30)
    browser.find_element(By.ID, "confirm").click()
    # The click submits a form: the heading read while the answer page replaces the form is stale.
    WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.TAG_NAME, "h1").text == "Acknowledged"
    )

    browser.get(f"{worker.base_url}/console")
    selector = "article[data-community='c-ack-b']"
    read_row = f"""const d = document.querySelector("{selector} details.response");
        if (!d) return null;
        if (!d.open) d.open = true;
        const row = d.querySelector("tr[data-recipient='zhao']");
        return row && [...row.querySelectorAll('td')].map(td => td.textContent);"""

    def acknowledged_row(b: webdriver.Chrome) -> list[str] | None:
        row = b.execute_script(read_row)
        if row and row[5] == "—":
            b.execute_script(f'document.querySelector("{selector} details.response").open = false')
            return None
        return row  # type: ignore[no-any-return]

    row = wait.until(acknowledged_row)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "console-response.png"))
    assert row[:4] == ["Zhao Lei (zhao)", "webhook", "opened", "delivered"], row
    assert warning_id in browser.execute_script(
        f'return document.querySelector("{selector}").dataset.warningId'
    )
