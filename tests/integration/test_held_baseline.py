"""A frozen baseline on the real broker: it survives a worker restart mid-incident, and an
operator's rebaseline reaches the worker and moves the series' baseline (issue 15, item 1)."""

from __future__ import annotations

import json
import random
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from pipeline.commands.operator import rebaseline_request, send_action
from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.worker_process import WorkerProcess
from schemas import RiskWarning, WarningChange
from tests.integration.conftest import ARTIFACTS, await_condition, isolated_settings, publish, read_until

NORMAL, FLOOD = 0.57, 1.25
SERIES = "c-held/wl-1/water_level"


class Gauge:
    """One water-level gauge of community ``c-held``, one reading a minute from ``start``."""

    def __init__(self, start: datetime) -> None:
        self.next_at = start
        self.rng = random.Random(7)
        self.count = 0

    def batch(self, level: float, minutes: int) -> list[dict[str, Any]]:
        readings = []
        for _ in range(minutes):
            readings.append(
                {
                    "kind": "sensor_reading",
                    "event_id": f"wl-1-{self.count}",
                    "community_id": "c-held",
                    "event_time": self.next_at.isoformat(),
                    "device_id": "wl-1",
                    "sensor_type": "water_level",
                    "value": round(level + self.rng.gauss(0, 0.004), 5),
                    "unit": "m",
                }
            )
            self.next_at += timedelta(minutes=1)
            self.count += 1
        return readings


def revisions(records: list[Any]) -> list[RiskWarning]:
    """Distinct revisions of c-held, in order (at-least-once: a record may repeat)."""
    distinct: dict[tuple[str, int], RiskWarning] = {}
    for record in records:
        warning = RiskWarning.model_validate_json(record.value)
        if warning.community_id == "c-held":
            distinct.setdefault((warning.warning_id, warning.revision), warning)
    return sorted(distinct.values(), key=lambda w: (w.opened_at, w.revision))


def wl1_expected(warning: RiskWarning) -> float | None:
    return next((e.expected for e in warning.evidence if e.series == SERIES), None)


def started(settings: Settings, log: Path) -> WorkerProcess:
    worker = WorkerProcess(settings.model_copy(update={"web_port": free_port()}), log)
    worker.start()
    worker.wait_ready(60)
    return worker


def metric(worker: WorkerProcess, name: str, **labels: str) -> float:
    return total(scrape(worker.base_url), name, **labels)


def seeing(worker: WorkerProcess, name: str, wanted: Callable[[float], bool], **labels: str) -> None:
    await_condition(lambda: wanted(metric(worker, name, **labels)), 30, f"{name}:\n{worker.log_tail()}")


def test_a_worker_restarted_mid_incident_keeps_the_frozen_baseline(
    broker: EmbeddedBroker, producer: KafkaProducer, tmp_path: Path
) -> None:
    settings = isolated_settings(broker, tmp_path)  # default checkpointing, key and timings
    ensure_topics(settings, broker.bootstrap_servers)
    topics = TopicNames.from_settings(settings)
    gauge = Gauge(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=200))
    before = [*gauge.batch(NORMAL, 120), *gauge.batch(FLOOD, 40)]
    log = ARTIFACTS / f"held-restart-{settings.app_id}.log"
    first = started(settings, log)
    try:
        publish(producer, topics.readings, "c-held", before)
        seeing(first, "riskwatch_events_received_total", lambda n: n >= len(before))
        seeing(first, "riskwatch_series_frozen", lambda n: n == 1)
        written = metric(first, "riskwatch_checkpoint_records_total", state="detector")
        seeing(first, "riskwatch_checkpoint_records_total", lambda n: n > written, state="detector")
    finally:
        first.stop()
    [opened] = revisions(read_until(broker, topics.warnings, lambda rs: bool(revisions(rs))))
    held = wl1_expected(opened)
    assert held is not None and abs(held - NORMAL) < 0.02, f"opened against {held}"

    second = started(settings, log)
    try:
        seeing(second, "riskwatch_warnings_active", lambda n: n == 1, community="c-held")
        higher = [*gauge.batch(FLOOD, 20), *gauge.batch(FLOOD + 1.0, 10)]
        publish(producer, topics.readings, "c-held", higher)
        seeing(second, "riskwatch_events_received_total", lambda n: n >= len(higher))
        seeing(second, "riskwatch_series_frozen", lambda n: n == 1)
        after = revisions(
            read_until(broker, topics.warnings, lambda rs: len(revisions(rs)) >= 2, timeout_s=60)
        )
        assert metric(second, "riskwatch_warnings_active", community="c-held") == 1
    finally:
        second.stop()
    moves = [(w.warning_id[:8], w.revision, w.change.value, wl1_expected(w)) for w in after]
    print("\n".join(map(str, moves)))
    assert {w.warning_id for w in after} == {opened.warning_id}, f"re-opened: {moves}"
    assert [w.change for w in after[1:]] == [WarningChange.ESCALATED] * (len(after) - 1), moves
    assert all(wl1_expected(w) == held for w in after), f"the baseline moved: {moves}"


def console(worker: WorkerProcess, body: dict[str, str] | None = None) -> Any:
    """GET (or POST ``body`` to) the console's ``/api/frozen``."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{worker.base_url}/api/frozen", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_rebaseline_reaches_the_worker_and_moves_the_series_baseline(
    broker: EmbeddedBroker, producer: KafkaProducer, tmp_path: Path
) -> None:
    settings = isolated_settings(broker, tmp_path, rebaseline_after_s=1800.0)
    ensure_topics(settings, broker.bootstrap_servers)
    topics = TopicNames.from_settings(settings)
    bootstrap = broker.bootstrap_servers
    gauge = Gauge(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=240))
    worker = started(settings, ARTIFACTS / f"held-rebaseline-{settings.app_id}.log")
    try:
        early = [*gauge.batch(NORMAL, 120), *gauge.batch(FLOOD, 20)]
        publish(producer, topics.readings, "c-held", early)
        seeing(worker, "riskwatch_series_frozen", lambda n: n == 1)
        [listed] = console(worker)["series"]
        assert (listed["series"], listed["may_rebaseline"]) == (SERIES, False)
        send_action(settings, bootstrap, rebaseline_request(SERIES, "wang.fang", "too early"))
        seeing(worker, "riskwatch_rebaselines_total", lambda n: n == 1, outcome="refused")
        assert "frozen for 0.3 h, less than the 0.5 h" in worker.log_tail(50_000)

        publish(producer, topics.readings, "c-held", gauge.batch(FLOOD, 20))
        seeing(worker, "riskwatch_series_frozen_longest_seconds", lambda s: s >= 1800)
        assert console(worker)["series"][0]["may_rebaseline"] is True
        asked = {"series": SERIES, "operator": "wang.fang", "reason": "pool raised for the season"}
        assert console(worker, asked)["accepted"]["series"] == SERIES  # the console's button
        seeing(worker, "riskwatch_rebaselines_total", lambda n: n == 1, outcome="accepted")
        seeing(worker, "riskwatch_series_frozen", lambda n: n == 0)

        publish(producer, topics.readings, "c-held", [*gauge.batch(FLOOD, 70), *gauge.batch(FLOOD + 0.6, 5)])
        records = read_until(
            broker,
            topics.warnings,
            lambda rs: len({w.warning_id for w in revisions(rs)}) >= 2,
            timeout_s=60,
        )
    finally:
        worker.stop()
    found = revisions(records)
    print(
        "\n".join(
            str((w.warning_id[:8], w.revision, w.change.value, w.tier.label, wl1_expected(w))) for w in found
        )
    )
    first, second = sorted(
        {w.warning_id for w in found}, key=lambda i: min(w.opened_at for w in found if w.warning_id == i)
    )
    flood = [w for w in found if w.warning_id == first]
    noted = [w for w in flood if w.change is WarningChange.REBASELINED]
    assert [(w.caused_by, w.comment) for w in noted] == [
        ("wang.fang", f"new normal of {SERIES}: pool raised for the season")
    ]
    assert flood[-1].change is WarningChange.RESOLVED, "the flood warning ended once its evidence went"
    assert abs((wl1_expected(flood[0]) or 0.0) - NORMAL) < 0.02
    rise = next(w for w in found if w.warning_id == second)
    assert abs((wl1_expected(rise) or 0.0) - FLOOD) < 0.02, "a rise on the new normal is judged against it"
