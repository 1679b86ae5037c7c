"""``riskwatch bench handle``: what the processing core costs per reading, with no broker.

``riskwatch bench pipeline`` measures the worker whole: Faust's consumer and agent, the
broker's fetches, checkpoints, the metrics probe and :meth:`EventProcessor.handle
<pipeline.processing.processor.EventProcessor.handle>`. This bench times ``handle`` alone, in
one process, on the benchmark workload's bytes (:mod:`pipeline.benchmarks.workload`), in two
phases of ``ticks`` readings per series each:

1. **warming** — the series' first readings, their models calibrating (``bench pipeline``'s
   throughput phase is this one: 100 ticks of fresh series);
2. **warmed** — the readings after them: a deployed worker's steady state.

For each phase: µs per reading of the whole ``handle`` and of its stages (decode, score,
assess: the handle's own stage timings, read from its metrics), and the readings/s one core
would reach on ``handle`` alone — the ceiling a worker cannot pass however cheap Faust and
the broker become. Messages are handed over in the workload's order, one partition per
community modulo ``partitions``, as the worker would see them.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from pipeline.benchmarks.workload import Workload
from pipeline.clock import SystemClock
from pipeline.commands.worker import freeze_long_lived
from pipeline.config import Settings
from pipeline.kafka.topics import TopicNames
from pipeline.metrics import PipelineMetrics
from pipeline.processing.processor import EventProcessor, InboundMessage

STAGES = ("decode", "score", "assess")
"""The stages ``handle`` times (its emit stage is the agent's, not measured here)."""


@dataclass
class HandlePhase:
    """One phase's cost per reading."""

    phase: str
    readings: int
    us_per_reading: float
    stage_us_per_reading: dict[str, float] = field(default_factory=dict)

    @property
    def readings_per_s(self) -> float:
        """Readings/s of one core spent on ``handle`` alone."""
        return 1e6 / self.us_per_reading if self.us_per_reading else 0.0


@dataclass
class HandleBenchReport:
    """Both phases of one run."""

    workload: dict[str, int]
    phases: list[HandlePhase] = field(default_factory=list)

    def as_table(self) -> str:
        """Human-readable rows."""
        rows = [
            f"{p.phase:>8}: {p.us_per_reading:5.1f} µs/reading"
            f" ({p.readings_per_s:,.0f} readings/s on one core); "
            + ", ".join(f"{stage} {us:.1f}" for stage, us in p.stage_us_per_reading.items())
            for p in self.phases
        ]
        return "\n".join([f"EventProcessor.handle, {self.workload}", *rows])

    def as_json(self) -> str:
        """Machine-readable figures."""
        phases = [{**asdict(p), "readings_per_s": p.readings_per_s} for p in self.phases]
        return json.dumps({"workload": self.workload, "phases": phases}, indent=2)


def stage_seconds(metrics: PipelineMetrics) -> dict[str, float]:
    """The seconds ``handle`` has spent so far in each of :data:`STAGES`, from its histogram."""
    family = next(metrics.stage_latency.collect())
    sums = {s.labels["stage"]: s.value for s in family.samples if s.name.endswith("_sum")}
    return {stage: sums.get(stage, 0.0) for stage in STAGES}


def run_handle_bench(
    settings: Settings, *, communities: int, devices: int, ticks: int, partitions: int
) -> HandleBenchReport:
    """Time ``handle`` (a processor of ``settings``, the worker's) over ``ticks`` warming and
    ``ticks`` warmed readings of every series. Event times are one second apart and end now
    (they pass the decoder's clock-skew check); every message is made before the clock starts."""
    workload = Workload(communities=communities, devices=devices, ticks=2 * ticks)
    messages = workload.messages()
    topic = TopicNames.from_settings(settings).readings
    metrics = PipelineMetrics()
    processor = EventProcessor(settings, metrics, SystemClock(), roll_up_locally=False)
    partition_of = {
        community.encode(): n % partitions for n, community in enumerate(workload.community_ids())
    }
    report = HandleBenchReport(
        workload={"communities": communities, "devices": devices, "ticks": ticks, "series": workload.series}
    )
    half = len(messages) // 2
    offset = 0
    freeze_long_lived()  # as the worker does once its app is built
    for phase, part in (("warming", messages[:half]), ("warmed", messages[half:])):
        before = stage_seconds(metrics)
        started = time.perf_counter()
        for key, value in part:
            processor.handle(InboundMessage(topic, partition_of[key], offset, key, value))
            offset += 1
        elapsed = time.perf_counter() - started
        after = stage_seconds(metrics)
        readings = len(part) * devices
        report.phases.append(
            HandlePhase(
                phase,
                readings,
                elapsed / readings * 1e6,
                {stage: (after[stage] - before[stage]) / readings * 1e6 for stage in STAGES},
            )
        )
    return report
