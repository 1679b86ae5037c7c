"""``riskwatch bench soak``, short: the real command on a fresh broker, a steady rate, samples over time.

Eighteen seconds say nothing about memory creep (that is what ``--minutes 10``
is for); they show the command works end to end, that the worker keeps up at a
steady rate with a bounded lag and catches up at the end, and that a valid
workload makes no dead letter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main

RATE = 2000.0
DEVICES = 10


def test_a_short_soak_samples_rss_lag_and_dead_letters_and_keeps_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RISKWATCH_DATA_DIR", str(tmp_path))
    argv = ["bench", "soak", "--minutes", "0.3", "--rate", str(RATE), "--communities", "20"]
    argv += ["--devices", str(DEVICES), "--partitions", "2", "--sample-every", "2", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    samples, summary = report["samples"], report["summary"]
    assert len(samples) >= 8, samples
    assert [s["elapsed_s"] for s in samples] == sorted(s["elapsed_s"] for s in samples)
    assert all(s["worker_rss_mib"] > 10 and s["broker_rss_mib"] > 1 for s in samples)
    assert summary["dead_letters"] == 0
    messages_per_s = RATE / DEVICES
    assert summary["max_lag_messages"] <= 5 * messages_per_s, f"lag not bounded: {samples}"
    assert summary["caught_up_s"] is not None and summary["final_lag_messages"] == 0
    assert summary["stalled_from_s"] is None
    last = samples[-1]
    assert last["processed_readings"] == last["produced_readings"] == report["produced_readings"] > 0
    assert abs(summary["achieved_rate_readings_per_s"] - RATE) < 0.2 * RATE, summary
    assert report["max_rate_readings_per_s"] is None and report["rate_readings_per_s"] == RATE
