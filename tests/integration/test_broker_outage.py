"""The broker goes away for 30 s and comes back: the worker reconnects by itself and nothing is lost.

What a real Kafka keeps across a broker restart, and so what this test relies on:
records it acknowledged (``acks=all``), topics, and the consumer group's committed
offsets. Tansu's default ``memory://`` storage keeps none of that (a restarted
broker is empty), so this test runs its own Tansu on the ``s3://`` engine over
moto's S3 server on loopback (:mod:`tests.integration.object_store`); the object
store stays up, Tansu is killed and started again on the same port, as a Kafka
broker restarts on its log directory.

While the broker is away, the producer (kafka-python: ``acks=all``, unbounded
retries within ``delivery.timeout.ms`` = 120 s, Kafka's defaults) keeps accepting
events into its buffer and delivers them when the broker is back: that is what a
device or gateway does with a real Kafka too. Every message is invalid on
purpose, so each one the worker processes leaves exactly one dead letter
carrying its marker, and the dead-letter topic tells, message by message, that
every event sent before, during and after the outage was processed, by the same
worker process.

What this shows: the worker's consumer, producer and group membership survive a
30 s broker outage without a restart; nothing acknowledged is lost; events sent
during the outage arrive once the broker is back. Meanwhile ``/ready`` answers
503 with the reason once the broker has been silent for 10 s, and no consumer
lag is exported (it is unknown, not 0); it is ready again after. Connection errors
are logged once per 30 s with a count (thousands of lines before).

What it cannot show here:

* a cluster: with one broker nothing fails over; on Apache Kafka with replicas the
  partitions' leaders move and clients never see a 30 s gap;
* an outage longer than the producer's ``delivery.timeout.ms``: then the producer
  gives up and the sender must keep the events itself (the SDK raises
  ``DeliveryError``);
* an idempotent producer: after a stop, Tansu answered batches the producer
  retried as duplicates (offset -1, which the producer takes as delivered) that
  it had not stored: 6 of 5,738 events lost after a SIGTERM, 1 or 2 of ~1,000 in
  two of four runs after a kill -9 (its producer sequence state evidently outlives
  records it never wrote; Kafka writes both atomically). The producer here has
  idempotence off, so a retried batch is simply written again (at-least-once; a
  repeat counts as reprocessed): then nothing was lost, after SIGTERM or kill -9.
  The broker is killed with SIGKILL here, a crash, the harsher of the two;
* Tansu's ``s3://`` engine answers a Fetch with nothing when the fetch wait is
  short (10 ms: no record in 15 s), so this worker waits up to 500 ms per fetch;
  latency is not what this test is about.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.worker_process import WorkerProcess
from schemas import DeadLetter
from tests.integration.conftest import (
    ARTIFACTS,
    MarkerStream,
    await_condition,
    isolated_settings,
    read_records,
)
from tests.integration.object_store import ObjectStore, moto_server_command

OUTAGE_S = 30.0
"""How long the broker is away (the feature under test, not a wait for something)."""


def readiness(worker: WorkerProcess) -> tuple[int, dict[str, Any]]:
    """``/ready``'s status and body."""
    try:
        with urllib.request.urlopen(f"{worker.base_url}/ready", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def lag_exported(worker: WorkerProcess) -> bool:
    """True when the worker exports any consumer lag (it must not while the broker is unknown)."""
    return any(name == "riskwatch_consumer_lag_messages" for name, _ in scrape(worker.base_url))


@pytest.fixture
def persistent_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A Tansu of its own whose records and offsets live in an S3 object store that outlives it."""
    if moto_server_command() is None:
        pytest.skip("moto's S3 server is not installed (it is a dev dependency: pip install -e '.[dev]')")
    ARTIFACTS.mkdir(exist_ok=True)
    with ObjectStore(ARTIFACTS / "outage-moto.log") as store:
        broker = EmbeddedBroker(
            log_file=ARTIFACTS / "outage-tansu.log",
            storage_engine=store.storage_engine,
            storage_env=store.tansu_env,
        )
        with broker:
            yield broker


def test_worker_reconnects_after_a_30_s_broker_outage_and_loses_nothing(
    persistent_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    broker = persistent_broker
    settings = isolated_settings(broker, tmp_path, consumer_fetch_max_wait_ms=500)
    ensure_topics(settings, broker.bootstrap_servers)
    topics = TopicNames.from_settings(settings)
    log = ARTIFACTS / f"outage-{settings.app_id}.log"
    with (
        WorkerProcess(settings, log) as worker,
        # Idempotence off: see the module docstring (Tansu's answer to a retried batch).
        MarkerStream(
            broker.bootstrap_servers,
            topics.readings,
            interval_s=0.04,
            await_each=False,
            enable_idempotence=False,
        ) as stream,
    ):
        worker.wait_ready(60)
        pid = worker.process.pid

        def dead_letters() -> float:
            return total(scrape(worker.base_url), "riskwatch_dead_letters_total")

        await_condition(
            lambda: dead_letters() >= 50, 60, f"no progress before the outage:\n{worker.log_tail()}"
        )
        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGKILL)  # a crash, not a graceful stop: see the docstring
        broker.stop()
        sent_before = len(stream.sent)
        outage_ends = time.monotonic() + OUTAGE_S
        unready: list[tuple[str, bool]] = []
        """/ready's reasons while it answered 503, each with whether a lag was exported then."""
        while time.monotonic() < outage_ends:
            assert worker.process.poll() is None, f"the worker died during the outage:\n{worker.log_tail()}"
            status, body = readiness(worker)
            if status == 503:
                unready.append((body["reason"], lag_exported(worker)))
            stream.stop.wait(1.0)
        assert unready, "/ready stayed 200 through a 30 s broker outage"
        assert all("broker" in reason and not lag for reason, lag in unready), unready
        sent_during = len(stream.sent) - sent_before
        processed_at_restart = dead_letters()
        broker.start()
        restarted = time.monotonic()
        await_condition(
            lambda: dead_letters() > processed_at_restart,
            60,
            f"the worker did not resume after the broker came back:\n{worker.log_tail()}",
        )
        resumed_s = time.monotonic() - restarted
        # A few seconds of events after the outage too, then every send must have been acknowledged.
        target = len(stream.sent) + int(3 / stream.interval_s)
        await_condition(lambda: len(stream.sent) >= target, 30, "the stream stalled after the outage")
        stream.stop.set()
        stream.thread.join(10)
        stream.producer.flush(timeout=60)
        failed = [(m, f.exception) for m, f in stream.sent if not f.succeeded()]
        assert not failed, f"the producer gave up on {len(failed)} events: {failed[:5]}"
        sent = stream.markers

        def markers(records: list[Any]) -> Counter[str]:
            return Counter(DeadLetter.model_validate_json(r.value).raw.decode().split()[-1] for r in records)

        seen = markers(read_records(broker, topics.deadletter, lambda rs: set(markers(rs)) >= set(sent), 120))
        lost = sorted(set(sent) - set(seen))
        if lost:
            on_input = {
                r.value.decode().split()[-1]: (r.partition, r.offset)
                for r in read_records(broker, topics.readings, lambda rs: False, 10)
            }
            acked = {m: (f.value.partition, f.value.offset) for m, f in stream.sent if m in lost}
            pytest.fail(
                f"lost {len(lost)}: {lost[:10]}; acknowledged at {list(acked.values())[:10]}; "
                f"on the input topic: {[on_input.get(m) for m in lost[:10]]}; "
                f"the worker counted {dead_letters():.0f} dead letters for {len(sent)} events"
            )
        assert worker.process.poll() is None and worker.process.pid == pid, "the worker was restarted"
        assert worker.is_ready()
    errors = [line for line in log.read_text(errors="replace").splitlines() if "[ERROR]" in line]
    assert len(errors) < 60, f"repeated errors must be logged once per interval: {len(errors)} ERROR lines"
    repeated = sum(c - 1 for c in seen.values())
    print(
        f"\n{len(sent)} events ({sent_before} before, {sent_during} during the {OUTAGE_S:.0f} s outage, "
        f"{len(sent) - sent_before - sent_during} after): 0 lost, {repeated} reprocessed; "
        f"the worker resumed {resumed_s:.1f} s after the broker restarted"
    )
