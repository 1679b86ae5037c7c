"""Sizing figures for deploy/README.md: one worker's events/s and its memory per 10,000 series.

Runs the real ``riskwatch worker`` process against the embedded Tansu broker on
loopback (one partition, so one worker does all the work), and prints:

* throughput: batches of 20 readings (as gateways send them) published ahead,
  timed until the worker's ``riskwatch_events_received_total`` has them all;
* memory: the worker's RSS before and after 10,000 new series (one reading each),
  counted by ``riskwatch_series_monitored``.

Usage (from the repository root, about a minute on 2 cores)::

    python deploy/sizing/measure_worker.py [--messages 3000] [--series 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from pipeline.kafka.broker import EmbeddedBroker, free_port
from pipeline.config import Settings
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess

BATCH = 20


def metric(worker: WorkerProcess, name: str) -> float:
    """Sum of a metric's samples on the worker's /metrics."""
    with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def rss_mib(pid: int) -> float:
    """Resident set size of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def batch(community: str, devices: list[str], start: datetime, rng: random.Random) -> bytes:
    """One gateway message: a water-level reading of each device, one minute apart."""
    return json.dumps(
        [
            {
                "kind": "sensor_reading",
                "event_id": uuid.uuid4().hex,
                "community_id": community,
                "event_time": (start + timedelta(seconds=i)).isoformat(),
                "device_id": device,
                "sensor_type": "water_level",
                "value": round(1.0 + rng.gauss(0, 0.01), 5),
                "unit": "m",
            }
            for i, device in enumerate(devices)
        ]
    ).encode()


def wait_until(worker: WorkerProcess, name: str, target: float, timeout_s: float = 300) -> float:
    """Poll until the metric reaches ``target``; return the monotonic time it did."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if metric(worker, name) >= target:
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not reach {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help=f"messages of {BATCH} readings")
    parser.add_argument("--series", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(7)
    now = datetime.now(UTC) - timedelta(hours=1)
    with tempfile.TemporaryDirectory() as home, EmbeddedBroker() as broker:
        settings = Settings(
            bootstrap_servers=broker.bootstrap_servers,
            app_id=f"sizing-{uuid.uuid4().hex[:6]}",
            topic_prefix="sizing.",
            partitions=1,
            web_port=free_port(),
            data_dir=Path(home),
        )
        ensure_topics(settings, broker.bootstrap_servers)
        readings = TopicNames.from_settings(settings).readings
        producer = KafkaProducer(
            bootstrap_servers=broker.bootstrap_servers, linger_ms=5, batch_size=256 * 1024
        )
        with WorkerProcess(settings, Path(home) / "worker.log") as worker:
            worker.wait_ready(60)
            # Throughput: 100 communities x 20 devices, so the series are warm after a few rounds.
            devices = {f"c{c}": [f"c{c}-d{d}" for d in range(BATCH)] for c in range(100)}
            began = time.monotonic()
            for i in range(args.messages):
                community = f"c{i % 100}"
                producer.send(
                    readings,
                    key=community.encode(),
                    value=batch(community, devices[community], now + timedelta(minutes=i // 100), rng),
                )
            producer.flush()
            done = wait_until(worker, "riskwatch_events_received_total", args.messages * BATCH)
            events, seconds = args.messages * BATCH, done - began
            print(
                f"throughput: {events} readings in {args.messages} messages: {events / seconds:,.0f} "
                f"readings/s ({args.messages / seconds:,.0f} messages/s) on one worker"
            )
            # Memory: new series, one reading each.
            before_series = metric(worker, "riskwatch_series_monitored")
            before = rss_mib(worker.process.pid)
            for first in range(0, args.series, BATCH):
                community = f"m{first // 1000}"
                names = [f"{community}-s{n}" for n in range(first, min(first + BATCH, args.series))]
                producer.send(readings, key=community.encode(), value=batch(community, names, now, rng))
            producer.flush()
            wait_until(worker, "riskwatch_series_monitored", before_series + args.series)
            time.sleep(1)  # let the allocator settle before reading RSS
            after = rss_mib(worker.process.pid)
            print(
                f"memory: RSS {before:.0f} MiB -> {after:.0f} MiB for {args.series} more series: "
                f"{(after - before) * 10_000 / args.series:.1f} MiB per 10k series "
                f"({(after - before) * 1024 * 1024 / args.series:,.0f} B per series)"
            )
        producer.close()


if __name__ == "__main__":
    main()
