"""The broker comes back empty (its data lost): the worker says so, keeps its models and carries on.

A worker learns three series on one broker; that broker is killed and a new,
empty one starts on the same port, as when a broker without persistent storage
restarts (the operator creates the topics again). The worker must notice that
the broker no longer holds the inputs it processed, say so at WARNING and in
``riskwatch_state_resets_total``, keep the models it has in memory, read the
new inputs from their beginning, and checkpoint all of its state to the new
broker.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from kafka import KafkaProducer

from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.state_store import read_logs
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.state.checkpoint_generations import fold_partition
from pipeline.worker_process import WorkerProcess
from tests.integration.conftest import ARTIFACTS, await_condition, isolated_settings, publish
from tests.integration.test_end_to_end import readings
from tests.integration.test_state_survives import DEVICES, device

HISTORY_MESSAGES = 70
"""One message a minute per device before the loss: enough for every model to warm up and calibrate
(issue 15's held baseline), and the old partitions end far beyond the new."""


def send_minutes(bootstrap: str, topic: str, values: list[float], tag: str) -> None:
    """One message per minute, each holding that minute's reading of every device; ``tag`` keeps
    the event ids of different sends apart."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
    try:
        for reading in readings("c-lost", values):
            batch = [
                {**r, "event_id": f"{tag}-{r['event_id']}"}
                for name in DEVICES
                for r in device([reading], name)
            ]
            publish(producer, topic, "c-lost", batch)
    finally:
        producer.close()


def test_a_worker_whose_broker_comes_back_empty_keeps_its_models_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    rng = random.Random(3)
    first = EmbeddedBroker(port=port, log_file=ARTIFACTS / "empty-first-tansu.log")
    first.start()
    try:
        settings = isolated_settings(first, tmp_path)
        ensure_topics(settings, first.bootstrap_servers)
        topics = TopicNames.from_settings(settings)
        log = ARTIFACTS / f"empty-{settings.app_id}.log"
        with WorkerProcess(settings, log) as worker:
            worker.wait_ready(60)
            history = [1.0 + rng.gauss(0, 0.004) for _ in range(HISTORY_MESSAGES)]
            send_minutes(first.bootstrap_servers, topics.readings, history, tag="old")
            await_condition(
                lambda: (
                    total(scrape(worker.base_url), "riskwatch_events_received_total")
                    >= HISTORY_MESSAGES * len(DEVICES)
                ),
                30,
                f"the history was not processed:\n{worker.log_tail()}",
            )
            first.stop()
            second = EmbeddedBroker(port=port, log_file=ARTIFACTS / "empty-second-tansu.log")
            second.start()
            try:
                ensure_topics(settings, second.bootstrap_servers)
                send_minutes(second.bootstrap_servers, topics.readings, [1.0, 1.0, 1.0], tag="new")

                def reset_seen() -> bool:
                    samples = scrape(worker.base_url)
                    return total(samples, "riskwatch_state_resets_total", reason="input_offsets_gone") >= 1

                await_condition(reset_seen, 60, f"the lost inputs went unnoticed:\n{worker.log_tail()}")
                await_condition(
                    lambda: (
                        total(scrape(worker.base_url), "riskwatch_events_received_total")
                        >= (HISTORY_MESSAGES + 3) * len(DEVICES)
                    ),
                    30,
                    f"the new broker's readings were not processed:\n{worker.log_tail()}",
                )
                samples = scrape(worker.base_url)
                assert total(samples, "riskwatch_series_monitored") == len(DEVICES), "the models were kept"
                assert total(samples, "riskwatch_series_warming_up") == 0
                assert "no longer holds inputs" in worker.log_tail(20000)

                def rewritten() -> bool:
                    logs = asyncio.run(read_logs(second.bootstrap_servers, topics.detector_state, range(2)))
                    return sum(
                        len(fold_partition({"detector": log}).states["detector"]) for log in logs.values()
                    ) == len(DEVICES)

                await_condition(rewritten, 40, f"the new broker never got every model:\n{worker.log_tail()}")
            finally:
                second.stop()
    finally:
        first.stop()
