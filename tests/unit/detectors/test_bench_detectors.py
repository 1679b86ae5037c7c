"""The detector benchmark on a generated corpus: timings, state sizes and NAB scores are reported."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from detectors.base import Score
from detectors.bench import (
    CorpusFile,
    batch_table,
    bench_batch,
    bench_detector,
    bench_families,
    families_table,
    load_corpus,
    results_table,
)
from detectors.ensemble import default_detector
from detectors.evaluation import LabeledSeries
from detectors.evaluation.replay import PolicyStep
from pipeline.cli import main

T0 = datetime(2024, 1, 1)


def corpus(n: int = 800, spike: int = 600) -> list[CorpusFile]:
    values = 5.0 + np.sin(np.arange(n) / 8.0)
    values[spike] += 30.0
    stamps = [T0 + timedelta(minutes=5 * i) for i in range(n)]
    window = [(stamps[spike - 10], stamps[spike + 10])]
    return [CorpusFile(LabeledSeries("cat/a.csv", stamps, window), values.tolist())]


class Threshold4:
    def observe(self, at: datetime, score: Score, values: Mapping[str, float]) -> PolicyStep:
        return PolicyStep(alert=score.surprise >= 4, tier=0)


def test_bench_detector_measures_time_state_and_nab() -> None:
    result = bench_detector("default", lambda: default_detector(), corpus(), lambda _: Threshold4())
    assert result.readings == 800
    assert 0 < result.us_median <= result.us_p99
    assert 0 < result.state_bytes_max < 10 * 1024
    assert result.best["standard"].tp == 1 and result.best["standard"].fp == 0
    assert result.emitted is not None and result.emitted["standard"].tp == 1
    table = results_table([result])
    assert "default" in table and "µs med" in table
    assert json.loads(json.dumps(result.as_dict()))["nab_best_threshold"]["standard"] > 80


def test_bench_batch_times_both_forms_and_compares_them() -> None:
    result = bench_batch(
        "water_level", lambda: default_detector("water_level", min_spread=0.02), corpus(), 20
    )
    assert result.readings == 800 and result.batch_size == 20 and result.identical
    assert 0 < result.batch[0] <= result.batch[1] and 0 < result.per_reading[0] <= result.per_reading[1]
    assert "water_level" in batch_table([result]) and result.as_dict()["identical"] is True


def write_tiny_nab(tmp_path: Path) -> None:
    """:func:`corpus` as a NAB layout (``data/``, ``labels/combined_windows.json``) under ``tmp_path``."""
    (tmp_path / "data" / "cat").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    item = corpus()[0]
    rows = [
        "timestamp,value",
        *(f"{t},{v}" for t, v in zip(item.series.timestamps, item.values, strict=True)),
    ]
    (tmp_path / "data" / "cat" / "a.csv").write_text("\n".join(rows) + "\n")
    start, end = item.series.windows[0]
    (tmp_path / "labels" / "combined_windows.json").write_text(
        json.dumps({"cat/a.csv": [[f"{start}.000000", f"{end}.000000"]]})
    )


def test_bench_command_on_a_tiny_nab_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tiny_nab(tmp_path)
    assert len(load_corpus(tmp_path)) == 1
    assert main(["bench", "detectors", "--nab", str(tmp_path), "--detector", "ewma_z", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["detector"] == "ewma_z" and row["readings"] == 800
    assert main(["bench", "detectors", "--nab", str(tmp_path / "missing")]) == 1
    assert main(["bench", "detectors", "--nab", str(tmp_path), "--detector", "nope"]) == 1


def test_bench_command_times_the_live_models_in_batch_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tiny_nab(tmp_path)
    nab = ["bench", "detectors", "--nab", str(tmp_path), "--batch"]
    assert (
        main([*nab, "--detector", "water_level", "--detector", "generic", "--batch-size", "7", "--json"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["readings"], r["batch_size"], r["identical"]) for r in rows] == [
        ("water_level", 800, 7, True),
        ("generic", 800, 7, True),
    ]
    assert main([*nab, "--detector", "ewma_z"]) == 1, "--batch times the live models, by sensor type"
    assert main([*nab, "--batch-size", "0"]) == 2


def test_bench_families_times_every_non_detector_family() -> None:
    results = bench_families(events=200)
    assert [r.name for r in results] == [
        "limits.check",
        "StuckSensor.observe",
        "BatteryMonitor.observe",
        "HeartbeatMonitor.beat",
        "ReportBursts.observe",
        "classifier.predict_one",
        "classifier.learn_one",
    ]
    assert all(0 < r.us_median <= r.us_p99 and r.state_bytes > 0 for r in results)
    assert "HeartbeatMonitor.beat" in families_table(results)
    assert json.loads(json.dumps(results[0].as_dict()))["family"] == "limits.check"
