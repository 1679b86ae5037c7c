"""Processes stop: a killed ``riskwatch broker`` takes its Tansu with it.

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

from pipeline.broker import free_port, wait_for_port
from tests.integration.conftest import await_condition

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
