"""The bench's sampling profile: py-spy records a running process into both formats, or nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.benchmarks.profiling import PROFILE_FILES, ProfilerError, profiled, py_spy

BUSY = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end:\n    sum(range(1000))\n"


def test_no_folder_records_nothing() -> None:
    with profiled(1, None) as written:
        pass
    assert written == []


def test_a_busy_process_is_sampled_into_a_flame_graph_and_a_speedscope_file(tmp_path: Path) -> None:
    try:
        py_spy()
    except ProfilerError as error:
        pytest.skip(str(error))
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        with profiled(busy.pid, tmp_path / "profile") as written:
            time.sleep(1.0)  # a span of work to sample, not a wait for an event: ~100 samples
    finally:
        busy.kill()
        busy.wait()
    assert [p.name for p in written] == list(PROFILE_FILES.values())
    svg, speedscope = written
    assert "<svg" in svg.read_text()
    profile = json.loads(speedscope.read_text())
    assert profile["profiles"] and profile["profiles"][0]["samples"], "no sample taken"


def test_a_process_that_cannot_be_sampled_is_a_clear_error(tmp_path: Path) -> None:
    try:
        py_spy()
    except ProfilerError as error:
        pytest.skip(str(error))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(ProfilerError, match="py-spy did not sample process"), profiled(gone.pid, tmp_path):
        pass
