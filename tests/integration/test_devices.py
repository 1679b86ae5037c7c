"""The registry from the command line to a running worker: ``riskwatch devices import|set`` reach
``/api/devices`` within seconds, and a gauge's site lines grade its readings from then on."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import parse_exposition
from pipeline.worker_process import WorkerProcess
from schemas import Hazard, RiskWarning
from schemas.hazard import Impact
from tests.integration.conftest import await_condition, publish, read_until
from tests.integration.test_silences import cli, get_json, rising

REGISTRY = (
    "device_id,community_id,district_id,latitude,longitude,sensor_type,installed_at,people\n"
    "wl-1,c-site,d-1,30.27,120.15,water_level,2025-04-01T00:00:00+08:00,120\n"
    "sm-1,c-site,d-1,30.27,120.15,smoke,2025-04-01T00:00:00+08:00,40\n"
)


def registered(settings: Settings) -> dict[str, dict[str, Any]]:
    return {d["device_id"]: d for d in get_json(settings, "/api/devices")["devices"]}


def unregistered(settings: Settings) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.web_port}/metrics", timeout=5) as response:
        return parse_exposition(response.read().decode())[("riskwatch_devices_unregistered", ())]


def test_devices_set_applies_a_gauges_site_lines_on_the_running_worker(
    tmp_path: Path,
    worker: WorkerProcess,
    worker_settings: Settings,
    topics: TopicNames,
    producer: KafkaProducer,
    broker: EmbeddedBroker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = tmp_path / "devices.csv"
    good.write_text(REGISTRY)
    cli(monkeypatch, worker_settings, "devices", "import", str(good))
    await_condition(lambda: set(registered(worker_settings)) == {"wl-1", "sm-1"}, 30, "the import arrives")

    bad = tmp_path / "more.csv"
    bad.write_text(REGISTRY.replace("sm-1", "sm-2").replace("wl-1", "wl-2").replace("30.27,", "95,", 1))
    with pytest.raises(SystemExit, match=r"nothing imported: .*row 2: latitude"):
        cli(monkeypatch, worker_settings, "devices", "import", str(bad))

    cli(monkeypatch, worker_settings, "devices", "set", "wl-1", "warning_line=1.2", "guaranteed_line=1.4")
    await_condition(
        lambda: registered(worker_settings)["wl-1"].get("guaranteed_line") == 1.4, 30, "the set arrives"
    )
    cli(monkeypatch, worker_settings, "devices", "list")
    listed = capsys.readouterr().out
    assert "wl-1  c-site (d-1) water_level" in listed and "III ≥ 1.2, II ≥ 1.4 m" in listed, listed
    assert "sm-2" not in listed and "wl-2" not in listed, "the bad file imported nothing"

    # The same rise (1.0 m calm, then 1.5 → 1.68 m) on the registered gauge and on an unregistered one.
    publish(producer, topics.readings, "c-site", rising("c-site", "wl-1"))
    publish(producer, topics.readings, "c-plain", rising("c-plain", "wl-9"))

    def both(records: list[Any]) -> bool:
        warnings = [RiskWarning.model_validate_json(r.value) for r in records]
        return {w.community_id for w in warnings if w.hazard is Hazard.FLOOD} >= {"c-site", "c-plain"}

    warnings = [RiskWarning.model_validate_json(r.value) for r in read_until(broker, topics.warnings, both)]
    impact = {w.community_id: w.impact for w in warnings if w.hazard is Hazard.FLOOD}
    assert impact["c-site"] is Impact.SEVERE, "past the site's guaranteed line"
    assert impact["c-plain"] is Impact.MODERATE, "a 0.5-0.7 m rise on the type's scale"
    await_condition(lambda: unregistered(worker_settings) == 1, 30, "wl-9 counted as unregistered")
