"""Replay and NAB evaluation on a few real NAB files (skips when ../shared is absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detectors.evaluation import evaluate_directory
from pipeline.cli import main

NAB_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "nab"
FILES = (
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv",
    "realKnownCause/ambient_temperature_system_failure.csv",
    "realTweets/Twitter_volume_FB.csv",
)


def test_replay_and_evaluate_on_nab_files(tmp_path: Path) -> None:
    if not NAB_DIR.is_dir():
        pytest.skip(f"../shared/datasets/nab not present: no NAB corpus at {NAB_DIR}")
    data, out = tmp_path / "data", tmp_path / "out"
    for name in FILES:
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NAB_DIR / "data" / name, data / name)
    assert main(["replay", str(data), "--out", str(out)]) == 0
    labels = NAB_DIR / "labels" / "combined_windows.json"
    best = evaluate_directory(out, labels)
    emitted = evaluate_directory(out, labels, column="alert", threshold=0.5)
    # These files have 7 windows; the default detector's score finds most of them.
    assert best["standard"].tp + best["standard"].fn == 7
    assert best["standard"].score > 50
    # The live ladder opens only on sustained risk (2 of 3 readings), so it emits far fewer alerts.
    assert emitted["standard"].tp + emitted["standard"].fn == 7
    assert emitted["standard"].fp <= best["standard"].fp + 5
    assert main(["evaluate", "nab", str(out), "--labels", str(labels)]) == 0
