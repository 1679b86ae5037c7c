"""The latency baseline of ``riskwatch bench pipeline``: a bare aiokafka relay, in a process of its own.

It consumes the readings topic, ``json.loads`` every message (a gateway batch,
a list of readings) and, for each message holding a spike reading (an
``event_id`` containing ``-spike-``, see
:func:`pipeline.benchmarks.workload.spike_message`), sends one record
``{"community_id": ..., "revision": 1}`` keyed by community to the sink topic
at once (``linger_ms=0``, one ``send`` per record, no batching of our own).

That is the least any worker can do between the same two topics: the same
broker, the same two Kafka hops, the same consumer fetch wait, its own process
and CPU, and no validation, scoring or assessment. The bench measures produce →
record received through it at the same rate as through the worker, so the
report can tell how much of the worker's latency is the broker and the hops and
how much is the worker.

    python -m pipeline.benchmarks.echo_relay --bootstrap 127.0.0.1:9092 \\
        --source bench.readings --sink bench.warnings --fetch-max-wait-ms 10 --group relay

It prints ``ready`` on stdout once its group has its partitions and their
offsets (so a record sent after that is relayed), and exits 0 on SIGTERM or
SIGINT. :class:`RelayProcess` starts it as a child process and waits for that line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from pipeline.processes import ManagedProcess

SPIKE_MARK = "-spike-"
READY_LINE = "ready"


class RelayStartError(RuntimeError):
    """The relay exited or did not become ready; the message quotes its log."""


def spike_community(value: bytes) -> str | None:
    """The community of the first spike reading in a message (a JSON list of readings), if any.

    >>> spike_community(b'[{"event_id": "c1-d0-3", "community_id": "c1"}]') is None
    True
    >>> spike_community(b'[{"event_id": "c1-spike-1.0-0", "community_id": "c1"}]')
    'c1'
    """
    for reading in json.loads(value):
        if SPIKE_MARK in str(reading.get("event_id", "")):
            return str(reading["community_id"])
    return None


async def await_positioned(consumer: AIOKafkaConsumer, timeout_s: float) -> None:
    """Wait until ``consumer``'s group has given it partitions and it knows where it reads
    from: a record sent after that is received. Raises ``TimeoutError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no partition of {sorted(consumer.subscription())} assigned in {timeout_s} s")
        await asyncio.sleep(0.01)
    for partition in consumer.assignment():
        await consumer.position(partition)


async def relay(bootstrap: str, source: str, sink: str, fetch_max_wait_ms: int, group: str) -> None:
    """Relay spikes from ``source`` to ``sink`` until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        # The bench starts the relay on fresh topics: nothing is skipped, and nothing
        # sent between the assignment and the first fetch is lost.
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    await consumer.start()
    try:
        await await_positioned(consumer, timeout_s=60)
        print(READY_LINE, flush=True)
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    community = spike_community(record.value or b"[]")
                    if community is not None:
                        value = json.dumps({"community_id": community, "revision": 1}).encode()
                        await producer.send(sink, key=community.encode(), value=value)
    finally:
        await consumer.stop()
        await producer.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and relay until SIGTERM; 0 on a clean stop."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.benchmarks.echo_relay", description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True, help="topic of gateway batches (readings)")
    parser.add_argument("--sink", required=True, help="topic the spike records go to (warnings)")
    parser.add_argument("--fetch-max-wait-ms", type=int, default=10)
    parser.add_argument("--group", required=True, help="consumer group id")
    args = parser.parse_args(argv)
    asyncio.run(relay(args.bootstrap, args.source, args.sink, args.fetch_max_wait_ms, args.group))
    return 0


class RelayProcess(ManagedProcess):
    """The relay as a child process: ``ready`` on its stdout, everything else in ``log_file``."""

    log_file: Path

    def __init__(
        self, bootstrap: str, source: str, sink: str, fetch_max_wait_ms: int, group: str, log_file: Path
    ) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "pipeline.benchmarks.echo_relay",
            *("--bootstrap", bootstrap, "--source", source, "--sink", sink),
            *("--fetch-max-wait-ms", str(fetch_max_wait_ms), "--group", group),
        ]
        self.log_file = log_file
        self.exit_code: int | None = None
        """The relay's exit code once :meth:`stop` has stopped it (0: a clean stop on SIGTERM)."""
        super().__init__()

    def start(self) -> None:
        """Start the relay process."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.popen(self.argv, stdout=subprocess.PIPE, stderr=log)

    def wait_ready(self, timeout_s: float = 30.0) -> float:
        """Wait for the relay's ``ready`` line; return the seconds it took. Raise with its log's
        tail if it exits or stays silent for ``timeout_s``."""
        if self._process is None or self._process.stdout is None:
            raise RelayStartError("the relay is not running")
        started = time.monotonic()
        stdout = self._process.stdout
        while (left := timeout_s - (time.monotonic() - started)) > 0:
            readable, _, _ = select.select([stdout], [], [], left)
            if not readable:
                break
            line = stdout.readline()
            if not line:
                self._process.wait(5)
                raise RelayStartError(f"the relay exited with {self._process.returncode}:\n{self.log_tail()}")
            if line.strip() == READY_LINE.encode():
                return time.monotonic() - started
        raise RelayStartError(f"the relay was not ready after {timeout_s} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the relay (SIGKILL after :attr:`stop_timeout_s`); keep its exit code."""
        process = self._process
        super().stop()
        if process is not None:
            self.exit_code = process.returncode
            if process.stdout is not None:
                process.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
