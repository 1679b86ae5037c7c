"""Processes stop: Ctrl-C and SIGTERM end the demo and a worker in 10 s, whatever the broker's
state, and a killed ``riskwatch broker`` takes its Tansu with it.

Every process is looked up in ``/proc`` by pid (a zombie counts as gone: it holds
no port and runs nothing), so a child left behind by its parent is seen.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.kafka.broker import EmbeddedBroker, free_port, wait_for_port
from pipeline.kafka.kafka_admin import ensure_topics
from pipeline.kafka.topics import TopicNames
from pipeline.metrics_scrape import scrape, total
from pipeline.worker_process import WorkerProcess
from tests.integration.conftest import ARTIFACTS, MarkerStream, await_condition, isolated_settings

STOP_BUDGET_S = 10.0
"""What the issue allows from the signal until every process is gone."""


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in found if running(p)}


def tail(path: Path, chars: int = 3000) -> str:
    """The end of a child's log file, to quote when a stop fails (its stop is what is in question)."""
    return path.read_text(errors="replace")[-chars:] if path.exists() else f"(no {path})"


def port_open(port: int) -> bool:
    """True while something accepts connections on ``127.0.0.1:port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def reaper() -> Iterator[set[int]]:
    """Pids to SIGKILL after the test if still running, so a failing test leaves no broker behind."""
    pids: set[int] = set()
    yield pids
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def riskwatch_env(**settings: object) -> dict[str, str]:
    """This environment without ``RISKWATCH_*`` (so no configured broker: the embedded one), plus
    ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKWATCH_")}
    env.update({f"RISKWATCH_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def default_sigint() -> None:
    """Give a child the SIGINT handling of a terminal's foreground job (pytest itself may run
    as a background job, whose children ignore SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_kill_9_of_riskwatch_broker_leaves_no_tansu(tmp_path: Path, reaper: set[int]) -> None:
    port = free_port()
    with open(tmp_path / "broker.log", "wb") as log:
        wrapper = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "broker", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=riskwatch_env(),
            start_new_session=True,
        )
    reaper.add(wrapper.pid)
    assert wait_for_port("127.0.0.1", port, 30, wrapper), (tmp_path / "broker.log").read_text()
    tansu = descendants(wrapper.pid)
    reaper.update(tansu)
    assert tansu, "riskwatch broker started no child"

    killed = time.monotonic()
    wrapper.kill()
    wrapper.wait(5)
    await_condition(
        lambda: not any(map(running, tansu)) and not port_open(port),
        STOP_BUDGET_S,
        f"Tansu {sorted(tansu)} still runs or port {port} is still open after kill -9 of riskwatch broker",
    )
    print(f"\nTansu gone {time.monotonic() - killed:.2f} s after kill -9 of riskwatch broker")


def test_sigint_to_the_demo_process_group_ends_every_process(tmp_path: Path, reaper: set[int]) -> None:
    log_path = tmp_path / "demo.log"
    env = riskwatch_env(data_dir=tmp_path / "data", web_port=free_port())
    with open(log_path, "wb") as log:
        demo = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "demo", "--communities", "1", "--seconds", "300"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # the test's own process group is not hit by the SIGINT
            preexec_fn=default_sigint,
        )
    reaper.add(demo.pid)
    await_condition(
        lambda: "simulating" in log_path.read_text(), 90, f"the demo did not start:\n{log_path.read_text()}"
    )
    processes = {demo.pid} | descendants(demo.pid)
    reaper.update(processes)
    assert len(processes) >= 3, f"expected the demo, its broker and its worker; found {processes}"

    interrupted = time.monotonic()
    os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C at the terminal does
    await_condition(
        lambda: demo.poll() is not None and not any(map(running, processes)),
        STOP_BUDGET_S,
        f"still running: {sorted(filter(running, processes))}; demo log:\n{log_path.read_text()[-3000:]}"
        f"\nworker log:\n{tail(tmp_path / 'data' / 'worker.log')}",
    )
    print(f"\ndemo, worker and broker gone {time.monotonic() - interrupted:.2f} s after SIGINT")
    assert demo.returncode == 0, log_path.read_text()[-3000:]


def test_sigterm_stops_a_worker_whose_broker_was_killed(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with EmbeddedBroker(log_file=ARTIFACTS / "processes-stop-tansu.log") as broker:
        settings = isolated_settings(broker, tmp_path)
        ensure_topics(settings, broker.bootstrap_servers)
        topics = TopicNames.from_settings(settings)
        with WorkerProcess(settings, ARTIFACTS / f"processes-stop-{settings.app_id}.log") as worker:
            worker.wait_ready(60)
            with MarkerStream(broker.bootstrap_servers, topics.readings, interval_s=0.002):
                await_condition(
                    lambda: total(scrape(worker.base_url), "riskwatch_dead_letters_total") >= 100,
                    60,
                    f"the worker processed nothing; log:\n{worker.log_tail()}",
                )
            assert broker.pid is not None
            os.kill(broker.pid, signal.SIGKILL)
            terminated = time.monotonic()
            worker.process.terminate()
            await_condition(
                lambda: worker.process.poll() is not None,
                STOP_BUDGET_S,
                f"the worker did not exit on SIGTERM with its broker gone; log:\n{worker.log_tail()}",
            )
            print(f"\nworker gone {time.monotonic() - terminated:.2f} s after SIGTERM (broker killed)")
