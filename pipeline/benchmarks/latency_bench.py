"""``riskwatch bench latency``: produce → warning at fixed rates, through the worker and the bare relay.

``riskwatch bench pipeline`` measures latency at half the worker's measured
maximum, so two versions of the worker are compared at different rates, and a
loaded machine moves the maximum. This bench holds the rate: one worker on a
fresh embedded broker is warmed on the workload, then for each given rate

1. **worker** — background messages at that rate for ``seconds``, with one spike
   each in communities of their own (a spiked community keeps its warning open,
   so every rate spikes other communities); produce → warning received;
2. **relay** — the same messages and spikes at the same rate on fresh topics,
   through the bare aiokafka relay (:mod:`pipeline.benchmarks.echo_relay`).

The worker's settings come from the ``RISKWATCH_*`` environment as for any
worker, so ``RISKWATCH_INGEST_BATCH_MESSAGES=1`` measures one message at a time.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.benchmarks.pipeline_bench import (
    await_readings,
    bench_settings,
    percentiles_ms,
    produce_messages,
    relay_latency,
    spike_latency,
)
from pipeline.benchmarks.workload import Workload
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess


@dataclass
class LatencyAtRate:
    """Produce → warning through the worker and through the relay at one rate."""

    rate_readings_per_s: float
    p50_ms: float
    p99_ms: float
    samples: int
    relay_p50_ms: float
    relay_p99_ms: float
    relay_samples: int

    @property
    def p99_ratio(self) -> float:
        """The worker's p99 ÷ the relay's."""
        return self.p99_ms / self.relay_p99_ms if self.relay_p99_ms else 0.0


@dataclass
class LatencyBenchReport:
    """Every rate's figures of one run, and the worker's batch setting."""

    workload: dict[str, int]
    ingest_batch_messages: int
    rates: list[LatencyAtRate] = field(default_factory=list)

    def as_table(self) -> str:
        """Human-readable result table, one row per rate."""
        w = self.workload
        lines = [
            f"{w['series']:,} series in messages of {w['devices']} readings, {w['partitions']} partitions,"
            f" batches of up to {self.ingest_batch_messages} messages",
            f"{'readings/s':>10}  {'worker p50 / p99 ms':>20}  {'relay p50 / p99 ms':>19}  {'p99 ratio':>9}"
            "  samples",
        ]
        lines += [
            f"{r.rate_readings_per_s:>10,.0f}  {r.p50_ms:>9.1f} / {r.p99_ms:>8.1f}  {r.relay_p50_ms:>8.1f} /"
            f" {r.relay_p99_ms:>8.1f}  {r.p99_ratio:>9.2f}  {r.samples} / {r.relay_samples}"
            for r in self.rates
        ]
        return "\n".join(lines)

    def as_json(self) -> str:
        """Machine-readable result."""
        rates = [{**asdict(r), "p99_ratio": r.p99_ratio} for r in self.rates]
        return json.dumps({**asdict(self), "rates": rates}, indent=2)


def spike_groups(workload: Workload, rates: int, spikes: int) -> list[list[str]]:
    """``spikes`` communities of their own for each of ``rates`` phases.

    >>> spike_groups(Workload(communities=4, devices=1, ticks=1), rates=2, spikes=2)
    [['bench-c0', 'bench-c1'], ['bench-c2', 'bench-c3']]
    >>> spike_groups(Workload(communities=3, devices=1, ticks=1), rates=2, spikes=2)
    Traceback (most recent call last):
    ...
    ValueError: 2 rates of 2 spikes need 4 communities; the workload has 3
    """
    communities = workload.community_ids()
    if rates * spikes > len(communities):
        raise ValueError(
            f"{rates} rates of {spikes} spikes need {rates * spikes} communities;"
            f" the workload has {len(communities)}"
        )
    return [communities[n * spikes : (n + 1) * spikes] for n in range(rates)]


def background(workload: Workload, rate: float, seconds: float) -> list[tuple[bytes, bytes]]:
    """The messages of ``seconds`` at ``rate`` readings/s, ticks of the workload ending now."""
    count = max(1, math.ceil(rate * seconds / workload.devices))
    ticks = math.ceil(count / workload.communities)
    return Workload(workload.communities, workload.devices, ticks, workload.seed).messages()[:count]


def run_latency_bench(
    *,
    rates: Sequence[float],
    communities: int,
    devices: int,
    warmup_ticks: int,
    spikes: int,
    seconds: float,
    partitions: int,
    data_dir: Path,
) -> LatencyBenchReport:
    """Warm one worker on a fresh embedded broker, then measure each of ``rates`` through it
    and through the relay. Raises ``ValueError`` when the communities cannot give every rate
    ``spikes`` of its own."""
    workload = Workload(communities=communities, devices=devices, ticks=warmup_ticks)
    groups = spike_groups(workload, len(rates), spikes)
    data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(log_file=data_dir / "bench-latency-broker.log") as broker:
        bootstrap = broker.bootstrap_servers
        settings = bench_settings(bootstrap, data_dir, partitions)
        report = LatencyBenchReport(
            workload={"series": workload.series, "devices": devices, "partitions": partitions},
            ingest_batch_messages=settings.ingest_batch_messages,
        )
        ensure_topics(settings, bootstrap)
        topics = TopicNames.from_settings(settings)
        asyncio.run(produce_messages(bootstrap, topics.readings, workload.messages()))
        with WorkerProcess(settings, data_dir / "bench-latency-worker.log") as worker:
            worker.wait_ready(60)
            await_readings([worker], workload.readings, 600)
            for rate, spiked in zip(rates, groups, strict=True):
                sent = background(workload, rate, seconds)
                through_worker = asyncio.run(
                    spike_latency(topics.readings, topics.warnings, bootstrap, sent, rate, spiked)
                )
                through_relay = relay_latency(bootstrap, data_dir, partitions, sent, rate, spiked)
                p50, p99 = percentiles_ms(through_worker)
                relay_p50, relay_p99 = percentiles_ms(through_relay)
                report.rates.append(
                    LatencyAtRate(
                        rate, p50, p99, len(through_worker), relay_p50, relay_p99, len(through_relay)
                    )
                )
    return report
