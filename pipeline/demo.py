"""``riskwatch demo``: broker, worker, a simulated community and live warnings on one terminal."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from pipeline.assess.tiers import TierPolicy
from pipeline.config import Settings
from pipeline.console.warning_lines import warning_line
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.notify.process import NotifyProcess
from pipeline.notify.roster import RosterEntry
from pipeline.notify.roster_store import write_roster
from pipeline.simulation.encoding import batch_json
from pipeline.simulation.live import demo_communities, live_feed
from pipeline.simulation.registry import city_registry, publish_registry
from pipeline.worker_process import WorkerProcess
from schemas.warning import RiskWarning


def _print_warnings(bootstrap: str, topic: str, stop: threading.Event, started: float) -> None:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=200
    )
    first = True
    try:
        while not stop.is_set():
            for record in consumer:
                warning = RiskWarning.model_validate_json(record.value)
                if first:
                    print(f"   (first warning {time.monotonic() - started:.1f} s after start)")
                    first = False
                print(warning_line(warning), flush=True)
    finally:
        consumer.close()


#: The demo's flood lasts seconds, not hours: enter on readings alone and step a tier
#: down after 5 s of quiet (instead of 5 min) so a newcomer sees a warning rise and fall
#: within a minute, unless an assessment configuration was given.
DEMO_TIERS = TierPolicy(enter_s=0.0, exit_dwell_s=5.0, flap_window_s=30.0)

#: How long the simulator's producer may flush and the warning printer may take to end
#: when the demo stops: with a broker that is gone, neither would ever finish, and Ctrl-C
#: must end the demo within 10 s (these, then the worker's own deadline, then the broker).
CLOSE_TIMEOUT_S = 1.0


def run_demo(
    settings: Settings,
    *,
    communities: int,
    tick_s: float,
    seed: int,
    run_for_s: float | None,
    roster: list[RosterEntry] | None = None,
) -> None:
    """Run the demo until Ctrl-C (or ``run_for_s`` seconds).

    The broker and the worker run in process groups of their own (see
    :meth:`~pipeline.processes.ManagedProcess.popen`), so Ctrl-C reaches only this
    process, which stops them in order: the simulator, the worker (it flushes and
    commits to a broker that is still there), then the broker. With a ``roster`` it
    writes it to ``riskwatch.roster`` and starts ``riskwatch notify`` too, whose links
    point at this worker's console unless ``RISKWATCH_NOTIFY_CONSOLE_URL`` says otherwise.
    """
    started = time.monotonic()
    logs = Path(settings.data_dir)
    logs.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        bootstrap = settings.bootstrap_servers
        if bootstrap is None:
            broker = stack.enter_context(EmbeddedBroker(log_file=logs / "broker.log"))
            bootstrap = broker.bootstrap_servers
            print(f"embedded Tansu broker on {bootstrap}")
        demo_values: dict[str, object] = {"bootstrap_servers": bootstrap}
        if "assessment" not in settings.model_fields_set:
            demo_values["assessment"] = settings.assessment.model_copy(update={"tiers": DEMO_TIERS})
        settings = settings.model_copy(update=demo_values)
        ensure_topics(settings, bootstrap)
        worker = stack.enter_context(WorkerProcess(settings, logs / "worker.log"))
        print(f"worker starting (log: {worker.log_file}) ...")
        print(f"worker ready in {worker.wait_ready():.1f} s")
        print(f"metrics: {worker.base_url}/metrics")
        print(f"console: {worker.base_url}/console")
        for url in settings.alertmanager.urls:
            print(f"alertmanager: warnings pushed to {url} (RISKWATCH_ALERTMANAGER_URL)")
        if roster:
            if settings.notify.console_url is None and settings.public_url is None:
                notify = settings.notify.model_copy(update={"console_url": worker.base_url})
                settings = settings.model_copy(update={"notify": notify})
            write_roster(settings, bootstrap, [(entry.id, entry) for entry in roster])
            notifier = stack.enter_context(NotifyProcess(settings, logs / "notify.log"))
            notifier.wait_ready()
            print(f"notify: delivering to {len(roster)} roster entries (log: {notifier.log_file})")
        print(f"simulating {communities} communities; an incident every 2 minutes. Ctrl-C stops.\n")
        topics = TopicNames.from_settings(settings)
        stop = threading.Event()
        printer = threading.Thread(
            target=_print_warnings, args=(bootstrap, topics.warnings, stop, started), daemon=True
        )
        printer.start()
        stack.callback(printer.join, CLOSE_TIMEOUT_S)
        stack.callback(stop.set)
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        stack.callback(producer.close, CLOSE_TIMEOUT_S)
        registry = city_registry(demo_communities(communities), seed)
        publish_registry(producer, topics.devices, registry)
        worker.wait_registered(len(registry))
        print(f"registry: {len(registry)} devices with their sites' lines ({worker.base_url}/api/devices)")
        topic_of = {kind: topic for topic, kind in topics.input_kinds().items()}
        feed = live_feed(
            communities=communities,
            seed=seed,
            tick=timedelta(seconds=tick_s),
            incident_every=timedelta(minutes=2),
            start=datetime.now(UTC),
        )
        began = time.monotonic()
        try:
            for tick in feed:
                if run_for_s is not None and time.monotonic() - started >= run_for_s:
                    break
                time.sleep(max(0.0, began + tick.offset_s - time.monotonic()))
                for incident in tick.new_incidents:
                    where, tier = ", ".join(incident.communities), incident.expected_tier.label
                    print(f"   scripted: {incident.kind.value} in {where} (deserves {tier})")
                for batch in tick.batches:
                    producer.send(
                        topic_of[batch.kind], key=batch.community_id.encode(), value=batch_json(batch)
                    )
        except KeyboardInterrupt:
            print("\nstopping ...")
