"""One incident end to end on the real broker: rise → corroborating reports → peak → recovery.

Reads back from the warnings topic one warning id going up the ladder and down
as the evidence fades, lifted once nothing grades a tier, the operator's
acknowledgement (sent with ``riskwatch ack``) in between, valid CAP 1.2 for every
step, and a false alarm that closes an episode and keeps it closed.
"""

from __future__ import annotations

import random
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from pipeline.assess.cap import cap_rule_problems
from pipeline.cli import main
from pipeline.config import Settings
from pipeline.console.web import cap_alert
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.worker_process import WorkerProcess, settings_environment
from schemas import Hazard, RiskWarning, Tier, WarningChange, WarningStatus
from tests.integration.conftest import await_condition, publish, read_until

xmlschema = pytest.importorskip("xmlschema", reason="xmlschema validates CAP against the OASIS XSD")
XSD = Path(__file__).resolve().parents[1] / "data" / "cap" / "CAP-v1.2-schema.xsd"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=110)


def reading(
    community: str, device: str, minute: int, value: float, sensor: str = "water_level", unit: str = "m"
) -> dict[str, Any]:
    return {
        "kind": "sensor_reading",
        "event_id": f"{community}-{device}-{minute}",
        "community_id": community,
        "event_time": (START + timedelta(minutes=minute)).isoformat(),
        "device_id": device,
        "sensor_type": sensor,
        "value": value,
        "unit": unit,
    }


def report(community: str, n: int, minute: int, role: str) -> dict[str, Any]:
    return {
        "kind": "resident_report",
        "event_id": f"{community}-r{n}",
        "community_id": community,
        "event_time": (START + timedelta(minutes=minute)).isoformat(),
        "report_id": f"{community}-r{n}",
        "reporter_role": role,
        "category": "flood",
        "description": "water is coming into the basement car park",
        "observed_time": (START + timedelta(minutes=minute - 1)).isoformat(),
        "severity": 4,
    }


def calm(community: str, minutes: range, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        r
        for m in minutes
        for r in (
            reading(community, "wl-a", m, 1.0 + rng.gauss(0, 0.005)),
            reading(community, "wl-b", m, 1.2 + rng.gauss(0, 0.005)),
        )
    ]


def revisions(broker: EmbeddedBroker, topics: TopicNames, community: str, until: Any) -> list[RiskWarning]:
    def mine(records: list[Any]) -> list[RiskWarning]:
        found = [RiskWarning.model_validate_json(r.value) for r in records]
        return [w for w in found if w.community_id == community]

    return mine(read_until(broker, topics.warnings, lambda rs: until(mine(rs)), 60))


def reports_received(worker: WorkerProcess) -> float:
    """Resident reports the worker has accepted so far."""
    return total(scrape(worker.base_url), "riskwatch_events_received_total", kind="resident_report")


def corroborate(worker: WorkerProcess, producer: KafkaProducer, topics: TopicNames, community: str) -> None:
    """Three residents' reports of the flood at minutes 63-64, read by the worker before this returns."""
    reports_before = reports_received(worker)
    publish(
        producer,
        topics.reports,
        community,
        [
            report(community, 1, 63, "resident"),
            report(community, 2, 63, "resident"),
            report(community, 3, 64, "grid_worker"),
        ],
    )
    # Topics are consumed independently: without this, the next readings can overtake the reports.
    await_condition(lambda: reports_received(worker) >= reports_before + 3, 30, "the worker read the reports")


def operator(monkeypatch: pytest.MonkeyPatch, settings: Settings, *argv: str) -> None:
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    assert main(list(argv)) == 0


def test_an_incident_rises_is_acknowledged_and_recovers_under_one_warning(
    worker: WorkerProcess,
    worker_settings: Settings,
    broker: EmbeddedBroker,
    producer: KafkaProducer,
    topics: TopicNames,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    community = "c-incident"
    publish(producer, topics.readings, community, calm(community, range(60), seed=1))
    # 2.2 and 2.3 m above normal: extreme on both gauges (ARR 2019 class H5), red once corroborated.
    publish(producer, topics.readings, community, [reading(community, "wl-a", m, 3.2) for m in (60, 61, 62)])
    corroborate(worker, producer, topics, community)
    publish(producer, topics.readings, community, [reading(community, "wl-b", m, 3.5) for m in (64, 65, 66)])
    peak = revisions(broker, topics, community, lambda ws: any(w.tier is Tier.I for w in ws))
    operator(
        monkeypatch,
        worker_settings,
        "ack",
        peak[-1].warning_id,
        "--operator",
        "duty officer Li",
        "--comment",
        "pumps on the way",
    )
    revisions(broker, topics, community, lambda ws: any(w.change is WarningChange.ACKNOWLEDGED for w in ws))
    publish(producer, topics.readings, community, calm(community, range(67, 100), seed=2))
    history = revisions(
        broker, topics, community, lambda ws: any(w.change is WarningChange.RESOLVED for w in ws)
    )

    assert {w.warning_id for w in history} == {peak[0].warning_id}, "one episode, one id"
    assert [(w.change, w.tier) for w in history] == [
        (WarningChange.OPENED, Tier.II),
        (WarningChange.ESCALATED, Tier.I),
        (WarningChange.ACKNOWLEDGED, Tier.I),
        (WarningChange.DE_ESCALATED, Tier.II),
        (WarningChange.DE_ESCALATED, Tier.III),
        (WarningChange.RESOLVED, Tier.III),  # lifted once nothing grades even IV: not walked down to blue
    ]
    assert [w.revision for w in history] == list(range(1, 7))
    escalated, acknowledged = history[1], history[2]
    assert {e.source for e in escalated.evidence} >= {"sensor", "report"}, "the reports corroborated"
    assert (acknowledged.caused_by, acknowledged.comment) == ("duty officer Li", "pumps on the way")
    assert all(w.status is WarningStatus.ACKNOWLEDGED for w in history[2:5])

    schema = xmlschema.XMLSchema(XSD)
    for step in range(1, len(history) + 1):
        document = cap_alert(worker_settings.assessment, history[:step])
        schema.validate(document)
        assert cap_rule_problems(document) == [], history[step - 1].change
    with urllib.request.urlopen(f"{worker.base_url}/api/cap/{history[0].warning_id}", timeout=10) as response:
        live = response.read().decode()
    schema.validate(live)
    # The episode is resolved: the live feed's message cancels it, referencing all five earlier ones.
    assert "<msgType>Cancel</msgType>" in live and "CN_WARNING_LEVEL" in live
    references = live.split("<references>")[1].split("</references>")[0]
    assert all(f"{history[0].warning_id}.r{n}," in references for n in range(1, 6))


def test_a_false_alarm_closes_the_episode_and_the_same_fault_does_not_reopen_it(
    worker: WorkerProcess,
    worker_settings: Settings,
    broker: EmbeddedBroker,
    producer: KafkaProducer,
    topics: TopicNames,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    community = "c-false"
    publish(
        producer,
        topics.readings,
        community,
        [*calm(community, range(60), seed=3), *(reading(community, "wl-a", m, 1.25) for m in (60, 61, 62))],
    )
    [opened] = revisions(broker, topics, community, lambda ws: bool(ws))
    operator(
        monkeypatch,
        worker_settings,
        "false-alarm",
        opened.warning_id,
        "--operator",
        "engineer Zhao",
        "--comment",
        "gauge knocked by a delivery van",
    )
    revisions(broker, topics, community, lambda ws: any(w.change is WarningChange.FALSE_ALARM for w in ws))
    # The same faulty gauge keeps reading high; then, in the same partition, a gas leak is the sentinel.
    gas = [reading(community, "ch4-1", m, 2.0 + 0.01 * (m % 3), "gas_ch4", "%LEL") for m in range(63)]
    publish(
        producer,
        topics.readings,
        community,
        [
            *(reading(community, "wl-a", m, 1.25) for m in (63, 64, 65)),
            *gas,
            *(reading(community, "ch4-1", m, 30.0, "gas_ch4", "%LEL") for m in (63, 64, 65)),
        ],
    )
    after = revisions(broker, topics, community, lambda ws: any(w.hazard is Hazard.GAS_LEAK for w in ws))
    closed = next(w for w in after if w.change is WarningChange.FALSE_ALARM)
    assert (closed.status, closed.caused_by) == (WarningStatus.FALSE_ALARM, "engineer Zhao")
    floods_after = [w for w in after[after.index(closed) + 1 :] if w.hazard is Hazard.FLOOD]
    assert floods_after == [], "a false alarm must not reopen while the same fault persists"
