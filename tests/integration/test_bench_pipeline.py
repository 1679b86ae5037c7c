"""``riskwatch bench pipeline``, small: every phase on a fresh broker, and its latency baseline, the relay."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from detectors.hold import CALIBRATION_READINGS
from pipeline.benchmarks.echo_relay import RelayProcess
from pipeline.benchmarks.latency_bench import run_latency_bench
from pipeline.benchmarks.pipeline_bench import run_pipeline_bench
from pipeline.benchmarks.workload import Workload, spike_message
from pipeline.kafka.broker import EmbeddedBroker


async def _relay_round_trip(bootstrap: str, source: str, sink: str) -> list[tuple[bytes, dict[str, object]]]:
    """Send a background batch, a spike and another batch to ``source``; return what ``sink`` got."""
    end = datetime.now(UTC)
    background = Workload(communities=2, devices=3, ticks=2).messages(end)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(
        sink, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=f"t-{uuid.uuid4().hex[:6]}"
    )
    await producer.start()
    await consumer.start()
    try:
        for key, value in [background[0], spike_message("bench-c1", 0, end), *background[1:]]:
            await producer.send_and_wait(source, key=key, value=value)
        received: list[tuple[bytes, dict[str, object]]] = []
        for _ in range(20):  # two seconds: a second record would come with the first
            for records in (await consumer.getmany(timeout_ms=100)).values():
                received += [(r.key or b"", json.loads(r.value or b"{}")) for r in records]
        return received
    finally:
        await producer.stop()
        await consumer.stop()


def test_the_relay_sends_one_record_per_spike_and_stops_cleanly(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    source, sink = f"relay{unique}.readings", f"relay{unique}.warnings"
    bootstrap = broker.bootstrap_servers
    with RelayProcess(bootstrap, source, sink, 10, f"relay-{unique}", tmp_path / "relay.log") as relay:
        assert relay.wait_ready(60) > 0
        received = asyncio.run(_relay_round_trip(bootstrap, source, sink))
    assert received == [(b"bench-c1", {"community_id": "bench-c1", "revision": 1})], relay.log_tail()
    assert relay.exit_code == 0, f"not a clean stop on SIGTERM:\n{relay.log_tail()}"


@pytest.mark.timeout(600)
def test_the_pipeline_bench_reports_the_latency_of_the_worker_and_of_the_relay_and_profiles_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISKWATCH_DETECTOR_WARMUP", "10")
    report = run_pipeline_bench(
        communities=20,
        devices=5,
        ticks=10 + CALIBRATION_READINGS + 5,  # warm and calibrated before the first spike
        partitions=2,
        data_dir=tmp_path,
        memory_series=(300,),
        restore_series=0,
        profile_dir=tmp_path / "profile",
    )
    assert report.pipeline_readings_per_s > 0 and report.latency_rate_readings_per_s > 0
    assert report.faust_ceiling_readings_per_s > 0 and report.ceiling_ratio > 0
    assert report.latency_samples == report.relay_latency_samples == 20
    assert 0 < report.latency_p50_ms <= report.latency_p99_ms
    assert 0 < report.relay_latency_p50_ms <= report.relay_latency_p99_ms
    assert report.latency_p99_ratio > 0
    data = json.loads(report.as_json())
    assert data["relay_latency_p99_ms"] == report.relay_latency_p99_ms > 0
    assert "latency baseline: aiokafka relay, same rate" in report.as_table()
    profiles = [Path(p) for p in report.profiles]
    assert [p.name for p in profiles] == ["worker-flamegraph.svg", "worker-speedscope.json"]
    assert all(p.stat().st_size > 0 for p in profiles)


@pytest.mark.timeout(600)
def test_the_latency_bench_measures_the_worker_and_the_relay_at_each_fixed_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISKWATCH_DETECTOR_WARMUP", "10")
    monkeypatch.setenv("RISKWATCH_INGEST_BATCH_MESSAGES", "1")  # the worker takes its settings as any does
    report = run_latency_bench(
        rates=[200.0, 400.0],
        communities=8,
        devices=5,
        warmup_ticks=10 + CALIBRATION_READINGS + 5,
        spikes=4,
        seconds=3.0,
        partitions=2,
        data_dir=tmp_path,
    )
    assert report.ingest_batch_messages == 1
    assert [r.rate_readings_per_s for r in report.rates] == [200.0, 400.0]
    for at_rate in report.rates:
        assert at_rate.samples == at_rate.relay_samples == 4  # every spike, in communities of its own
        assert 0 < at_rate.p50_ms <= at_rate.p99_ms and 0 < at_rate.relay_p50_ms <= at_rate.relay_p99_ms
