"""Clean and crashed runs of one simulated input, and what they leave behind, for the crash tests.

A run publishes the same simulated community (valid readings, telemetry and
reports; incidents that open, escalate and close warnings) to topics of its own,
lets workers with the default checkpoint settings process it, and waits until a
checkpoint covers every input offset. What it returns is read from the broker:
every warning record, and each input partition's resume point and state as the
state topics hold them.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaProducer

from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.state_store import read_logs
from pipeline.kafka.topics import TopicNames
from pipeline.simulation.encoding import batch_json
from pipeline.simulation.generator import Batch, generate
from pipeline.simulation.planning import plan_scenario
from pipeline.simulation.publishing import Pacer
from pipeline.simulation.scenario import DecoyKind, IncidentKind
from pipeline.state.checkpoint_generations import PartitionFold, fold_partition
from pipeline.worker_process import WorkerProcess
from schemas import RiskWarning
from tests.integration.conftest import ARTIFACTS, await_condition, isolated_settings, read_records

PARTITIONS = 4
DURATION = timedelta(hours=3)


def simulated_input() -> list[Batch]:
    """Twelve communities for three hours, ending now: power outages, gas leaks and fires that
    open and close warnings, resident reports, a device that goes offline and one that spikes."""
    scenario = plan_scenario(
        "crash",
        communities=12,
        duration=DURATION,
        seed=5,
        incident_kinds=[IncidentKind.POWER_OUTAGE, IncidentKind.GAS_LEAK, IncidentKind.FIRE],
        decoy_kinds=[DecoyKind.DEVICE_OFFLINE, DecoyKind.FAULTY_SPIKE],
    )
    start = datetime.now(UTC).replace(microsecond=0) - DURATION
    return list(generate(scenario, start))


@dataclass
class RunOutcome:
    """What one run left on the broker."""

    warnings: list[tuple[tuple[str, int], bytes]] = field(default_factory=list)
    """Every warning record as ((warning id, revision), value), in the order read."""
    folds: dict[int, PartitionFold] = field(default_factory=dict)

    def revisions(self) -> dict[tuple[str, int], set[bytes]]:
        """Every content seen for each (warning id, revision)."""
        seen: dict[tuple[str, int], set[bytes]] = {}
        for key, value in self.warnings:
            seen.setdefault(key, set()).add(value)
        return seen


class CrashRun:
    """One run's topics, input and workers."""

    def __init__(self, broker: EmbeddedBroker, tmp_path: Path, name: str, data_dir: Path) -> None:
        self.broker = broker
        self.settings = isolated_settings(broker, tmp_path, partitions=PARTITIONS, data_dir=data_dir)
        self.topics = TopicNames.from_settings(self.settings)
        self.log = ARTIFACTS / f"crash-{name}-{self.settings.app_id}.log"
        self.ends: dict[tuple[str, int], int] = {}
        """Per input topic partition, the offset after the last message published."""

    def publish(self, batches: list[Batch], pacer: Pacer | None = None) -> None:
        """Send every batch to its kind's topic, as the simulator does (paced by ``pacer``, if
        given), and note the end offsets."""
        ensure_topics(self.settings, self.broker.bootstrap_servers)
        topic_of = {kind: topic for topic, kind in self.topics.input_kinds().items()}
        producer = KafkaProducer(
            bootstrap_servers=self.broker.bootstrap_servers, linger_ms=5, batch_size=256 * 1024
        )
        futures = []
        for batch in batches:
            if pacer is not None:
                pacer.wait(batch.offset_s, len(batch.events))
            value = batch_json(batch)
            futures.append(producer.send(topic_of[batch.kind], key=batch.community_id.encode(), value=value))
        producer.flush()
        for future in futures:
            meta = future.get(10)
            tp = (meta.topic, meta.partition)
            self.ends[tp] = max(self.ends.get(tp, 0), meta.offset + 1)
        producer.close()

    def worker(self) -> WorkerProcess:
        """A worker of this run on a port of its own."""
        return WorkerProcess(self.settings.model_copy(update={"web_port": free_port()}), self.log)

    def folds(self) -> dict[int, PartitionFold]:
        """Each input partition's state as the state topics hold it now."""

        async def read() -> dict[str, dict[int, list[tuple[str, bytes | None]]]]:
            return {
                label: await read_logs(self.broker.bootstrap_servers, topic, range(PARTITIONS))
                for label, topic in (
                    ("detector", self.topics.detector_state),
                    ("assessment", self.topics.warnings_state),
                )
            }

        logs = asyncio.run(read())
        return {p: fold_partition({label: log[p] for label, log in logs.items()}) for p in range(PARTITIONS)}

    def covered(self) -> bool:
        """True when a checkpoint covers every published input message."""
        for partition, fold in self.folds().items():
            resume_at = fold.marker.resume_at if fold.marker is not None else {}
            for (topic, p), end in self.ends.items():
                if p == partition and resume_at.get(topic, 0) != end:
                    return False
        return True

    def await_covered(self, worker: WorkerProcess, timeout_s: float = 120) -> None:
        """Wait until a checkpoint covers the whole input (the default interval applies)."""
        await_condition(self.covered, timeout_s, f"no checkpoint covered the input:\n{worker.log_tail()}")

    def outcome(self) -> RunOutcome:
        """Every warning record and the final state of every partition."""
        records = read_records(self.broker, self.topics.warnings, lambda rs: False, timeout_s=3)
        warnings = []
        for record in records:
            warning = RiskWarning.model_validate_json(record.value)
            warnings.append(((warning.warning_id, warning.revision), record.value))
        return RunOutcome(warnings=warnings, folds=self.folds())


def clean_run(run: CrashRun, batches: list[Batch]) -> RunOutcome:
    """Publish, let one worker process everything undisturbed, read the outcome."""
    run.publish(batches)
    with run.worker() as worker:
        worker.wait_ready(60)
        run.await_covered(worker)
    return run.outcome()


Kill = tuple[int, float]
"""Which of the workers to kill -9 (its index), and how many seconds after the previous kill."""


def killed_run(
    run: CrashRun, batches: list[Batch], kills: list[Kill], publish_s: float, workers: int = 1
) -> None:
    """Publish over ``publish_s`` seconds, as a live community would, into ``workers`` workers of
    one group, killing one with kill -9 at each of ``kills`` and starting another in its place at
    once (waiting until it is ready). Then let them run until a checkpoint covers the input."""
    publisher = threading.Thread(
        target=run.publish, args=(batches, Pacer(None, DURATION.total_seconds() / publish_s))
    )
    ensure_topics(run.settings, run.broker.bootstrap_servers)
    running = [run.worker() for _ in range(workers)]
    try:
        for worker in running:
            worker.start()
            worker.wait_ready(60)
        publisher.start()
        for victim, delay in kills:
            threading.Event().wait(delay)  # a random moment, not an awaited event
            running[victim].process.kill()
            running[victim].process.wait(10)
            running[victim] = run.worker()
            running[victim].start()
            running[victim].wait_ready(60)
        publisher.join()
        run.await_covered(running[0])
    finally:
        for worker in running:
            worker.stop()


def random_kills(seed: int, count: int, workers: int, low_s: float, high_s: float) -> list[Kill]:
    """``count`` kills of random workers at random delays in ``[low_s, high_s)``, the same for a seed."""
    rng = random.Random(seed)
    return [(rng.randrange(workers), rng.uniform(low_s, high_s)) for _ in range(count)]
