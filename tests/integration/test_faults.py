"""Crashes: kill -9 a worker mid-stream five times; nothing sent is lost.

Every message here is invalid on purpose, so each one processed leaves exactly
one observable record (its dead letter): the dead-letter topic then tells,
message by message, what the worker processed across crashes and restarts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.worker_process import WorkerProcess
from schemas import DeadLetter
from tests.integration.conftest import ARTIFACTS, MarkerStream, await_condition, isolated_settings, read_until

KILLS = 5
DEAD_LETTERS_BETWEEN_KILLS = 150


def test_kill_9_five_times_mid_stream_loses_nothing(broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = isolated_settings(broker, tmp_path)
    ensure_topics(settings, broker.bootstrap_servers)
    topics = TopicNames.from_settings(settings)
    log = ARTIFACTS / f"faults-{settings.app_id}.log"
    with MarkerStream(broker.bootstrap_servers, topics.readings, interval_s=0.002) as stream:
        for _ in range(KILLS):
            worker = WorkerProcess(settings, log)
            worker.start()
            worker.wait_ready(60)

            def progressed(worker: WorkerProcess = worker) -> bool:
                dead_letters = total(scrape(worker.base_url), "riskwatch_dead_letters_total")
                return dead_letters >= DEAD_LETTERS_BETWEEN_KILLS

            await_condition(progressed, 60, f"worker made no progress; log:\n{worker.log_tail()}")
            worker.process.kill()  # SIGKILL: no commit, no flush, no goodbye
            worker.process.wait(10)
    sent = stream.markers
    assert len(sent) > KILLS * DEAD_LETTERS_BETWEEN_KILLS
    with WorkerProcess(settings, log) as final:
        final.wait_ready(60)

        def markers(records: list[Any]) -> Counter[str]:
            return Counter(DeadLetter.model_validate_json(r.value).raw.decode().split()[-1] for r in records)

        records = read_until(broker, topics.deadletter, lambda rs: set(markers(rs)) >= set(sent), 120)
    seen = markers(records)
    assert set(sent) <= set(seen), f"lost: {sorted(set(sent) - set(seen))[:10]}"
    repeated = sum(c - 1 for c in seen.values())
    # At-least-once: what a worker processed after its last commit is processed again.
    # Each kill here lands while a fresh worker works off its restart backlog, often
    # before its first commit, so this share is far above a steady-state crash's.
    print(
        f"\n{len(sent)} messages, {KILLS} kill -9s: 0 lost, {repeated} reprocessed "
        f"({repeated / len(sent):.1%})"
    )
