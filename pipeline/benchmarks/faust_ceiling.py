"""What Faust alone lets a worker reach: a no-op agent on the worker's transport, in a process of its own.

``riskwatch bench pipeline`` compares the worker with raw aiokafka consume + ``json.loads``.
Between the two sits Faust (its consumer thread, conductor, streams and acks) and the
worker's own work. This phase measures the first alone: an agent on the worker's Faust
transport (:class:`~pipeline.kafka.faust_transport.RiskwatchFaustApp`, the same fetch wait,
session timeout and heartbeat) that takes what is waiting as the worker's ingest agent does
(``take_events`` of up to ``batch_messages`` within ``batch_within_ms``) and only
``json.loads`` each message, as the baseline does. Its readings/s is the ceiling of any worker
built on Faust's per-event stream: what the worker reaches below it is the worker's own cost.

    python -m pipeline.benchmarks.faust_ceiling --bootstrap 127.0.0.1:9092 \\
        --topic bench.readings --readings 400000 --data-dir /tmp/ceiling --out /tmp/ceiling.json

It reads ``topic`` from its beginning in a group of its own, writes ``{"readings_per_s": ...}``
to ``--out`` once it has seen ``readings`` readings (not to stdout: Faust's worker turns that
into log lines), and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from faust.worker import Worker

from pipeline.config import Settings
from pipeline.kafka.faust_transport import RiskwatchFaustApp, worker_faust_app


def ceiling_app(
    bootstrap: str, settings: Settings, topic: str, readings: int, report: Callable[[float], None]
) -> RiskwatchFaustApp:
    """A Faust app of the worker's consumer ``settings`` whose one agent counts the readings of
    ``topic``'s messages and calls ``report(readings_per_s)`` once it has seen ``readings``."""
    app = worker_faust_app(f"bench-ceiling-{uuid.uuid4().hex[:6]}", settings, bootstrap, web_enabled=False)
    within_s = settings.ingest_batch_within_ms / 1000

    @app.agent(app.topic(topic), name="ceiling")
    async def count(stream: Any) -> None:
        seen = 0
        started: float | None = None
        async for events in stream.take_events(settings.ingest_batch_messages, within=within_s):
            started = started or time.perf_counter()
            seen += sum(len(json.loads(event.message.value)) for event in events)
            if seen >= readings:
                report(seen / max(time.perf_counter() - started, 1e-9))
                return

    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Count ``--readings`` readings of ``--topic`` through the no-op agent; print the rate."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.benchmarks.faust_ceiling", description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True, help="topic of gateway batches (readings)")
    parser.add_argument("--readings", type=int, required=True, help="readings to count before stopping")
    parser.add_argument("--data-dir", required=True, help="Faust's data folder")
    parser.add_argument("--out", required=True, help="file the figure is written to")
    args = parser.parse_args(argv)
    settings = Settings(bootstrap_servers=args.bootstrap, data_dir=Path(args.data_dir))

    def report(rate: float) -> None:
        Path(args.out).write_text(json.dumps({"readings_per_s": rate}))
        os.kill(os.getpid(), signal.SIGTERM)  # Faust's worker stops cleanly on SIGTERM

    app = ceiling_app(args.bootstrap, settings, args.topic, args.readings, report)
    Worker(app, loglevel="warning", quiet=True).execute_from_commandline()
    return 0


def faust_ceiling(bootstrap: str, topic: str, readings: int, data_dir: Path, timeout_s: float = 600) -> float:
    """Run :func:`main` in a child process (Faust's worker owns its process) and return its
    readings/s; its log goes to ``data_dir / "bench-ceiling.log"``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    out = data_dir / f"bench-ceiling-{uuid.uuid4().hex[:6]}.json"
    argv = [sys.executable, "-m", "pipeline.benchmarks.faust_ceiling", "--bootstrap", bootstrap]
    argv += ["--topic", topic, "--readings", str(readings), "--data-dir", str(data_dir / "ceiling")]
    argv += ["--out", str(out)]
    with open(data_dir / "bench-ceiling.log", "ab") as log:
        subprocess.run(argv, stdout=log, stderr=log, timeout=timeout_s, check=True)
    if not out.is_file():
        raise RuntimeError(f"the Faust ceiling run wrote no figure; see {data_dir / 'bench-ceiling.log'}")
    return float(json.loads(out.read_text())["readings_per_s"])


if __name__ == "__main__":
    sys.exit(main())
