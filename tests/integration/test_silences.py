"""An operator's silence, set with ``riskwatch silence add``, stops the paging of matching
notifications on a running worker while the warning itself is still recorded."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import KafkaProducer

from pipeline.assess.routing import route
from pipeline.cli import main
from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import parse_exposition
from pipeline.worker_process import WorkerProcess, settings_environment
from schemas import Hazard, RiskWarning
from tests.integration.conftest import await_condition, publish, read_until

NOW = datetime.now(UTC).replace(microsecond=0)


def rising(community: str, device: str) -> list[dict[str, Any]]:
    """90 minutes of a calm water level, then a clear rise over the last ten."""
    rng = random.Random(device)
    values = [1.0 + rng.gauss(0, 0.005) for _ in range(80)] + [1.5 + 0.02 * i for i in range(10)]
    start = NOW - timedelta(minutes=len(values))
    return [
        {
            "kind": "sensor_reading",
            "event_id": f"{community}-{device}-{i}",
            "community_id": community,
            "event_time": (start + timedelta(minutes=i)).isoformat(),
            "device_id": device,
            "sensor_type": "water_level",
            "value": value,
            "unit": "m",
        }
        for i, value in enumerate(values)
    ]


def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *argv: str) -> None:
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    assert main(list(argv)) == 0


def get_json(settings: Settings, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.web_port}{path}", timeout=5) as response:
        return json.loads(response.read())


def suppressed(settings: Settings) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.web_port}/metrics", timeout=5) as response:
        samples = parse_exposition(response.read().decode())
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "riskwatch_notifications_total" and ("outcome", "suppressed") in labels
    )


def test_a_silence_mutes_paging_for_its_community_and_hazard_until_it_is_ended(
    worker: WorkerProcess,
    worker_settings: Settings,
    topics: TopicNames,
    producer: KafkaProducer,
    broker: EmbeddedBroker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli(monkeypatch, worker_settings, "silence", "add", "--community", "c-works", "--hazard", "flood",
        "--for", "2h", "--author", "li.wei", "--comment", "pump replacement")  # fmt: skip
    silence_id = capsys.readouterr().out.split(":")[0]
    assert silence_id.startswith("silence-")

    def active() -> list[str]:
        return [s["silence_id"] for s in get_json(worker_settings, "/api/silences")["silences"]]

    await_condition(lambda: active() == [silence_id], 30, "the worker follows the silences topic")
    cli(monkeypatch, worker_settings, "silence", "list")
    assert "community c-works, hazard flood" in capsys.readouterr().out

    for community in ("c-works", "c-open"):
        for device in ("wl-1", "wl-2"):
            publish(producer, topics.readings, community, rising(community, device))

    def opened(records: list[Any]) -> bool:
        warnings = [RiskWarning.model_validate_json(r.value) for r in records]
        return {w.community_id for w in warnings if w.hazard is Hazard.FLOOD} >= {"c-works", "c-open"}

    warnings = [RiskWarning.model_validate_json(r.value) for r in read_until(broker, topics.warnings, opened)]
    await_condition(
        lambda: suppressed(worker_settings) >= 1, 30, "the silenced opening counted as suppressed"
    )
    first_open = next(w for w in warnings if w.community_id == "c-open")
    [responder, *_] = route(worker_settings.assessment.routes, Hazard.FLOOD, first_open.tier, 0)
    paged = [
        json.loads(r.value)["community_id"]
        for r in read_until(
            broker,
            worker_settings.topic_prefix + responder,
            lambda records: any(json.loads(r.value)["community_id"] == "c-open" for r in records),
        )
    ]
    assert "c-works" not in paged, "a silenced warning was paged"

    cli(monkeypatch, worker_settings, "silence", "end", silence_id)
    await_condition(lambda: active() == [], 30, "the silence ends")


def send_json(settings: Settings, method: str, path: str, body: object | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.web_port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_console_starts_and_ends_a_silence_that_the_worker_applies(
    worker: WorkerProcess, worker_settings: Settings
) -> None:
    status, refused = send_json(worker_settings, "POST", "/api/silences", {"minutes": 30, "author": "li.wei"})
    assert status == 400 and "at least one of community, hazard, device" in refused["error"], refused
    form = {
        "community_id": "c-console",
        "hazard": "fire",
        "minutes": 30,
        "author": "li.wei",
        "comment": "drill",
    }
    status, accepted = send_json(worker_settings, "POST", "/api/silences", form)
    assert status == 202, accepted
    silence_id = accepted["accepted"]["silence_id"]

    def applied() -> list[dict[str, Any]]:
        listing = get_json(worker_settings, "/api/silences")
        return [s for s in listing["silences"] if s["silence_id"] == silence_id]

    await_condition(lambda: bool(applied()), 30, "the worker applies the console's silence")
    assert (applied()[0]["community_id"], applied()[0]["hazard"]) == ("c-console", "fire")
    assert "fire" in get_json(worker_settings, "/api/silences")["hazards"], "the form's hazard choices"
    assert send_json(worker_settings, "DELETE", "/api/silences/silence-unknown")[0] == 404
    assert send_json(worker_settings, "DELETE", f"/api/silences/{silence_id}")[0] == 202
    await_condition(lambda: not applied(), 30, "the tombstone ends the silence")
