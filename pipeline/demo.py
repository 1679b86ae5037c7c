"""``riskwatch demo``: broker, worker, a simulated community and live warnings on one terminal."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from pipeline.broker import EmbeddedBroker
from pipeline.config import Settings
from pipeline.demo_events import demo_batches
from pipeline.kafka_admin import ensure_topics
from pipeline.topics import TopicNames
from pipeline.warning_lines import warning_line
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


#: The demo's flood lasts seconds, not hours: resolve after 10 s of quiet so a
#: newcomer sees a warning rise and fall (unless RISKWATCH_RESOLVE_AFTER_S is set).
DEMO_RESOLVE_AFTER_S = 10.0


def run_demo(
    settings: Settings, *, communities: int, tick_s: float, seed: int, run_for_s: float | None
) -> None:
    """Run the demo until Ctrl-C (or ``run_for_s`` seconds)."""
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
        if "resolve_after_s" not in settings.model_fields_set:
            demo_values["resolve_after_s"] = DEMO_RESOLVE_AFTER_S
        settings = settings.model_copy(update=demo_values)
        ensure_topics(settings, bootstrap)
        worker = stack.enter_context(WorkerProcess(settings, logs / "worker.log"))
        print(f"worker starting (log: {worker.log_file}) ...")
        print(f"worker ready in {worker.wait_ready():.1f} s")
        print(f"metrics: {worker.base_url}/metrics")
        print(f"simulating {communities} communities; a flood is scripted in one of them. Ctrl-C stops.\n")
        topics = TopicNames.from_settings(settings)
        stop = threading.Event()
        printer = threading.Thread(
            target=_print_warnings, args=(bootstrap, topics.warnings, stop, started), daemon=True
        )
        printer.start()
        stack.callback(printer.join, 5)
        stack.callback(stop.set)
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        stack.callback(producer.close)
        tick = 0
        try:
            while run_for_s is None or time.monotonic() - started < run_for_s:
                now = datetime.now(UTC)
                for community, batch in demo_batches(
                    tick=tick, communities=communities, now=now, seed=seed
                ).items():
                    producer.send(topics.readings, key=community.encode(), value=json.dumps(batch).encode())
                tick += 1
                time.sleep(tick_s)
        except KeyboardInterrupt:
            print("\nstopping ...")
