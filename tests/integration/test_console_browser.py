"""The console in a real browser (Debian Chromium, driven by Selenium): a warning appears live with
its tier and evidence; acknowledging it changes it on the page and on the warnings topic."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess
from schemas import RiskWarning, WarningChange
from tests.integration.conftest import ARTIFACTS, publish, read_until
from tests.integration.test_end_to_end import readings
from tests.setup.system_tools import require_tool

COMMUNITY = "c-browser"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Headless Debian Chromium; no browser download, no background network."""
    chromium = require_tool("chromium", "chromium")
    driver_path = require_tool("chromedriver", "chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_warning_appears_live_and_acknowledging_it_shows_everywhere(
    worker: WorkerProcess,
    broker: EmbeddedBroker,
    producer: KafkaProducer,
    topics: TopicNames,
    browser: webdriver.Chrome,
) -> None:
    browser.get(f"{worker.base_url}/console")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: b.find_element(By.ID, "status").text == "live")
    rng = random.Random(9)
    publish(
        producer,
        topics.readings,
        COMMUNITY,
        readings(COMMUNITY, [*(2.0 + rng.gauss(0, 0.005) for _ in range(60)), 2.5, 2.5, 2.5]),
    )

    selector = f"article[data-community='{COMMUNITY}']"
    # The board re-renders on every event: read the card in one atomic script call.
    read_card = f"""const c = document.querySelector("{selector}");
        return c && {{id: c.dataset.warningId, status: c.dataset.status,
                     tier: c.querySelector('.badge').textContent,
                     evidence: c.querySelector('table.evidence').textContent}};"""
    card = wait.until(lambda b: b.execute_script(read_card))
    assert card["tier"] in {"I red", "II orange", "III yellow", "IV blue"}
    assert card["status"] == "active"
    assert f"{COMMUNITY}/{COMMUNITY}-water_level/water_level" in card["evidence"]

    browser.find_element(By.ID, "operator").send_keys("duty officer Wang")

    def click_acknowledge(b: webdriver.Chrome) -> bool:
        b.find_element(By.CSS_SELECTOR, f"{selector} button[data-action='acknowledge']").click()
        return True

    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(click_acknowledge)
    wait.until(lambda b: (b.execute_script(read_card) or {}).get("status") == "acknowledged")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "console.png"))

    def acknowledged(records: list[Any]) -> bool:
        return any(
            RiskWarning.model_validate_json(r.value).change is WarningChange.ACKNOWLEDGED for r in records
        )

    revisions = [
        RiskWarning.model_validate_json(r.value) for r in read_until(broker, topics.warnings, acknowledged)
    ]
    ack = next(w for w in revisions if w.change is WarningChange.ACKNOWLEDGED)
    assert (ack.warning_id, ack.caused_by) == (card["id"], "duty officer Wang")


def test_an_operator_starts_and_ends_a_silence_from_the_console(
    worker: WorkerProcess, browser: webdriver.Chrome
) -> None:
    browser.get(f"{worker.base_url}/console")
    wait = WebDriverWait(browser, 30)
    hazards = "#silence-form select[name=hazard] option"
    wait.until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, hazards)) > 1, "the hazards came from the worker"
    )
    browser.find_element(By.CSS_SELECTOR, "#silences summary").click()  # open the panel
    operator = browser.find_element(By.ID, "operator")
    operator.clear()
    operator.send_keys("duty officer Wang")
    form = browser.find_element(By.ID, "silence-form")
    form.find_element(By.NAME, "community_id").send_keys("c-browser-silence")
    form.find_element(By.NAME, "comment").send_keys("gauge maintenance")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    listed = "return [...document.querySelectorAll('#silence-list li')].map(li => li.textContent);"
    shown = wait.until(lambda b: [t for t in b.execute_script(listed) if "c-browser-silence" in t])
    assert "duty officer Wang: gauge maintenance" in shown[0]

    def click_end(b: webdriver.Chrome) -> bool:
        b.find_element(By.CSS_SELECTOR, "#silence-list li button").click()
        return True

    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(click_end)
    wait.until(lambda b: not [t for t in b.execute_script(listed) if "c-browser-silence" in t])
