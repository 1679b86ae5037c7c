"""Run a scenario through the real pipeline and score the warnings that come out.

Steps: a broker (embedded Tansu unless one is configured), topics and a
consumer group of the drill's own, a real ``riskwatch worker`` process, the
scenario's events published as fast as the producer goes, then:

1. wait until the worker's ``/metrics`` count every published message
   (``riskwatch_messages_received_total`` per kind) — the worker handles a
   message and serves ``/metrics`` on one event loop, so once the counts match
   the last message has been handled and ``riskwatch_warning_changes_total``
   is final;
2. read the warnings topic until that many warning records have arrived.

No sleeps stand in for "probably done". Simulated time starts at the
scenario's fixed start (the drill's worker gets an event-age window wide
enough for it) or ends just before "now".
"""

from __future__ import annotations

import contextlib
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from pipeline.config import Settings
from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.simulation.generator import generate
from pipeline.simulation.publishing import Pacer, live_start, publish
from pipeline.simulation.registry import publish_registry, scenario_registry
from pipeline.simulation.scenario import Scenario
from pipeline.simulation.scorecard import ScoreCard, score
from pipeline.simulation.truth import GroundTruth, ground_truth
from pipeline.worker_process import WorkerProcess
from schemas.warning import RiskWarning

#: Seconds the worker may take per published event before the drill gives up (plus a floor).
_SECONDS_PER_EVENT = 0.002
_MIN_WAIT_S = 120.0
#: Extra age allowed beyond the scenario's start: the drill itself takes time.
_AGE_MARGIN_S = 3600.0


class DrillError(RuntimeError):
    """The drill could not finish: the worker stalled or warnings went missing."""


@dataclass(frozen=True)
class DrillResult:
    """What a drill produced: the score card, the raw warnings and what it took."""

    card: ScoreCard
    truth: GroundTruth
    warnings: list[RiskWarning]
    events: Counter[str]
    messages: Counter[str]
    dead_letters: int
    publish_s: float
    process_s: float


def drill_start(scenario: Scenario, now: datetime, speedup: float | None = None) -> datetime:
    """Start of simulated time.

    Unpaced: the scenario's own start, else so it ends a minute before ``now``.
    Paced (``speedup``): so event time keeps step with the wall clock (see
    :func:`~pipeline.simulation.publishing.live_start`); a fixed start is ignored.
    """
    if speedup is not None:
        return live_start(now, scenario.duration, speedup)
    if scenario.start is not None:
        if scenario.start + scenario.duration > now:
            raise DrillError(f"scenario {scenario.name} ends after now; its start must be earlier")
        return scenario.start
    end = now.astimezone(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    return end - scenario.duration


def event_age_window(settings: Settings, start: datetime, now: datetime) -> float:
    """``max_event_age_s`` for the drill's worker: the configured one, widened to reach ``start``.

    A scenario with a fixed start replays the past; the drill's own worker must
    accept it (production workers keep their window).
    """
    return max(settings.max_event_age_s, (now - start).total_seconds() + _AGE_MARGIN_S)


def metric_totals(text: str) -> dict[tuple[str, str], float]:
    """Sum samples of the Prometheus exposition ``text`` by (name, first label value).

    >>> metric_totals('riskwatch_messages_received_total{kind="sensor_reading"} 3.0\\n')
    {('riskwatch_messages_received_total', 'sensor_reading'): 3.0}
    """
    totals: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, next(iter(sample.labels.values()), ""))
            totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def _worker_totals(worker: WorkerProcess) -> dict[tuple[str, str], float]:
    with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as response:
        return metric_totals(response.read().decode())


def _sum(totals: dict[tuple[str, str], float], name: str) -> int:
    return int(sum(v for (n, _), v in totals.items() if n == name))


def _wait_processed(
    worker: WorkerProcess, messages: Counter[str], timeout_s: float
) -> dict[tuple[str, str], float]:
    deadline = time.monotonic() + timeout_s
    while True:
        totals = _worker_totals(worker)
        seen = {kind: totals.get(("riskwatch_messages_received_total", kind), 0.0) for kind in messages}
        if all(seen[kind] >= count for kind, count in messages.items()):
            return totals
        if time.monotonic() > deadline or worker.process.poll() is not None:
            raise DrillError(f"the worker handled {seen} of {dict(messages)} messages:\n{worker.log_tail()}")
        time.sleep(0.2)


def _read_warnings(bootstrap: str, topic: str, expected: int, timeout_s: float) -> list[RiskWarning]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    found: list[RiskWarning] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < expected:
            if time.monotonic() > deadline:
                raise DrillError(f"read {len(found)} of {expected} warning records from {topic}")
            for records in consumer.poll(timeout_ms=200).values():
                found.extend(RiskWarning.model_validate_json(r.value) for r in records)
    finally:
        consumer.close()
    return found


def run_drill(
    scenario: Scenario,
    settings: Settings,
    *,
    log_dir: Path,
    now: datetime | None = None,
    tolerance: int = 1,
    speedup: float | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> DrillResult:
    """Run ``scenario`` through a fresh worker (and an embedded broker unless one is configured).

    Unpaced by default (as fast as the producer goes); with ``speedup`` the events
    are sent as simulated time passes ``speedup`` times faster than the wall clock
    (to watch a drill unfold, or to hold the load down). Only ``speedup`` 1 keeps
    event time equal to wall time; a pipeline must judge staleness in event time
    for any faster drill or replay to be meaningful.
    """
    now = now or datetime.now(UTC)
    start = drill_start(scenario, now, speedup)
    truth = ground_truth(scenario, start)
    unique = uuid.uuid4().hex[:8]
    log_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        bootstrap = settings.bootstrap_servers
        if bootstrap is None:
            broker = stack.enter_context(EmbeddedBroker(log_file=log_dir / "broker.log"))
            bootstrap = broker.bootstrap_servers
        drill_settings = settings.model_copy(
            update={
                "bootstrap_servers": bootstrap,
                "app_id": f"drill-{unique}",
                "topic_prefix": f"drill-{unique}.",
                "web_port": free_port(settings.web_host),
                "data_dir": log_dir / "data",
                "max_event_age_s": event_age_window(settings, start, now),
            }
        )
        ensure_topics(drill_settings, bootstrap)
        worker = stack.enter_context(WorkerProcess(drill_settings, log_dir / f"worker-{unique}.log"))
        progress(f"worker ready in {worker.wait_ready():.1f} s (log {worker.log_file})")
        topics = TopicNames.from_settings(drill_settings)
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, batch_size=256 * 1024)
        stack.callback(producer.close)
        registry = scenario_registry(scenario)
        publish_registry(producer, topics.devices, registry)
        progress(f"worker read {len(registry)} devices in {worker.wait_registered(len(registry)):.1f} s")
        began = time.monotonic()
        messages, events = publish(producer, topics, generate(scenario, start), Pacer(None, speedup))
        published = time.monotonic()
        progress(f"published {sum(events.values())} events in {sum(messages.values())} messages")
        timeout = max(_MIN_WAIT_S, _SECONDS_PER_EVENT * sum(events.values()))
        totals = _wait_processed(worker, messages, timeout)
        processed = time.monotonic()
        expected = _sum(totals, "riskwatch_warning_changes_total")
        warnings = _read_warnings(bootstrap, topics.warnings, expected, _MIN_WAIT_S)
        progress(f"worker done {processed - began:.1f} s after the first event; {expected} warning records")
    return DrillResult(
        card=score(truth, warnings, tolerance),
        truth=truth,
        warnings=warnings,
        events=events,
        messages=messages,
        dead_letters=_sum(totals, "riskwatch_dead_letters_total"),
        publish_s=published - began,
        process_s=processed - began,
    )
