"""Replay: the pure core, the CSV rules, and the replay / evaluate commands on generated files."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib.machinery import ModuleSpec
from pathlib import Path

import numpy as np
import pytest

from detectors.base import Score
from detectors.ensemble import PerMetricDevice, SeriesModel
from detectors.evaluation.replay import PolicyStep, replay
from detectors.evaluation.replay_io import csv_files, read_device_table
from pipeline.cli import main
from pipeline.commands.replay import AssessmentPolicy
from pipeline.config import Settings
from pipeline.processing.live_detector import live_series_model

T0 = datetime(2024, 3, 1)
N_ROWS = 600
SPIKE_ROW = 450
INCIDENT = range(SPIKE_ROW, SPIKE_ROW + 15)
"""A sustained rise: the live ladder opens on 2 of 3 high risks, never on one spike."""
LEVEL = {"level": 1.0}
"""The reading behind a score fed to the policy directly: at its expected level, no rise."""


class RecordingPolicy:
    """Alerts at surprise >= 4 and remembers what it saw."""

    def __init__(self) -> None:
        self.seen: list[datetime] = []

    def observe(self, at: datetime, score: Score, values: Mapping[str, float]) -> PolicyStep:
        self.seen.append(at)
        hot = score.surprise >= 4
        return PolicyStep(alert=hot, tier=4 if hot else 0)


def level_series(seed: int = 1, spike: float = 40.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = 10.0 + rng.normal(0.0, 0.5, N_ROWS)
    values[SPIKE_ROW] += spike
    return values


def write_device_csv(path: Path) -> None:
    """A ';'-separated file with a 'datetime' column, two metrics, a text and a noisy column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pressure, flow = level_series(1), level_series(2, spike=0.0)
    pressure[INCIDENT.start : INCIDENT.stop] += 40.0
    noisy = level_series(3, spike=0.0)
    noisy[100] += 1000.0  # would alarm if scored
    lines = ["Datetime;pressure;flow;status;noisy"]
    for i in range(N_ROWS):
        stamp = T0 + timedelta(minutes=5 * (i - (i == 7)))  # row 7 repeats row 6's time
        lines.append(f"{stamp:%Y-%m-%d %H:%M:%S};{pressure[i]:.4f};{flow[i]:.4f};ok;{noisy[i]:.4f}")
    path.write_text("\n".join(lines) + "\n")


def write_nab_csv(path: Path) -> tuple[str, str]:
    """A NAB-style ``timestamp,value`` file (a smooth wave and one spike); returns the spike's window."""
    path.parent.mkdir(parents=True, exist_ok=True)
    values = 10.0 + np.sin(np.arange(N_ROWS) / 10.0)
    values[INCIDENT.start : INCIDENT.stop] += 20.0
    stamps = [T0 + timedelta(minutes=5 * i) for i in range(N_ROWS)]
    rows = [
        "timestamp,value",
        *(f"{s:%Y-%m-%d %H:%M:%S},{v:.4f}" for s, v in zip(stamps, values, strict=True)),
    ]
    path.write_text("\n".join(rows) + "\n")
    return (f"{stamps[SPIKE_ROW - 20]}.000000", f"{stamps[SPIKE_ROW + 20]}.000000")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_replay_core_scores_in_order_and_flags_the_spike() -> None:
    stamps = [T0 + timedelta(minutes=i) for i in range(N_ROWS)]
    policy = RecordingPolicy()
    done: list[int] = []
    result = replay(
        stamps, {"level": level_series()}, PerMetricDevice(SeriesModel(warmup=30)), policy, done.append, 100
    )
    assert policy.seen == stamps
    assert done == [100, 200, 300, 400, 500, 600, 600]
    assert result.alert[SPIKE_ROW] == 1 and result.tier[SPIKE_ROW] == 4
    assert result.anomaly_score[SPIKE_ROW] == result.anomaly_score.max() > 0.5
    assert np.all(result.anomaly_score[:30] == 0.0), "no score while warming up"
    assert np.all((result.anomaly_score >= 0) & (result.anomaly_score < 1))


def test_replay_core_active_follows_the_open_warning() -> None:
    class Ladder:
        """Opens at surprise >= 4 (tier IV, escalating to II at >= 8) and stays open 3 rows after."""

        def __init__(self) -> None:
            self.calm = 0
            self.tier = 0

        def observe(self, at: datetime, score: Score, values: Mapping[str, float]) -> PolicyStep:
            opened = score.surprise >= 4 and not self.tier
            if score.surprise >= 4:
                self.tier, self.calm = (2 if score.surprise >= 8 else 4), 0
            elif self.tier:
                self.calm += 1
                self.tier = 0 if self.calm > 3 else self.tier
            return PolicyStep(alert=opened, tier=self.tier)

    stamps = [T0 + timedelta(minutes=i) for i in range(N_ROWS)]
    result = replay(stamps, {"level": level_series()}, PerMetricDevice(SeriesModel(warmup=30)), Ladder())
    active_rows = np.flatnonzero(result.active).tolist()
    assert active_rows and active_rows[0] == SPIKE_ROW
    assert active_rows == np.flatnonzero(result.tier).tolist(), "active exactly while a tier is reported"
    assert result.active.dtype == np.int64 and set(result.active.tolist()) == {0, 1}


def test_replay_core_learns_the_training_prefix_without_warning() -> None:
    stamps = [T0 + timedelta(minutes=i) for i in range(N_ROWS)]
    policy = RecordingPolicy()
    level = level_series()
    level[SPIKE_ROW - 100] += 40.0  # a spike inside the prefix: scored, never warned
    trained = replay(
        stamps, {"level": level}, PerMetricDevice(SeriesModel(warmup=30)), policy, train_rows=SPIKE_ROW - 50
    )
    untrained = replay(stamps, {"level": level}, PerMetricDevice(SeriesModel(warmup=30)), RecordingPolicy())
    assert policy.seen == stamps[SPIKE_ROW - 50 :], "the policy starts after the prefix"
    assert not trained.alert[: SPIKE_ROW - 50].any() and not trained.active[: SPIKE_ROW - 50].any()
    assert untrained.alert[SPIKE_ROW - 100] == 1, "the same spike warns without a prefix"
    assert trained.alert[SPIKE_ROW] == 1 and trained.active[SPIKE_ROW] == 1
    np.testing.assert_array_equal(trained.anomaly_score, untrained.anomaly_score)


class WarnedFrom:
    """Says the device's hazard is warned from row ``start`` on (another source opened it)."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.rows = 0

    def observe(self, at: datetime, score: Score, values: Mapping[str, float]) -> PolicyStep:
        self.rows += 1
        return PolicyStep(alert=False, tier=0, warned=self.rows >= self.start)


def test_replay_core_learns_nothing_while_the_policy_says_the_hazard_is_warned() -> None:
    """Each row is learned as the worker learns it: a held model learns nothing after a row the
    policy reported warned, so a slow rise stays judged against the level before it."""
    stamps = [T0 + timedelta(minutes=i) for i in range(N_ROWS)]
    rise = np.concatenate([np.full(300, 1.0), 1.0 + 0.0004 * np.arange(1, N_ROWS - 299)])
    level = rise + np.random.default_rng(5).normal(0.0, 0.005, N_ROWS)
    model = SeriesModel("water_level", min_spread=0.02, warmup=30)
    held = replay(stamps, {"level": level}, PerMetricDevice(model), WarnedFrom(300))
    followed = replay(stamps, {"level": level}, PerMetricDevice(model), WarnedFrom(N_ROWS + 1))
    assert held.anomaly_score[:301].tolist() == followed.anomaly_score[:301].tolist()
    assert held.anomaly_score[-1] > 0.5 > followed.anomaly_score[-1]


def test_replay_core_rejects_ragged_columns() -> None:
    with pytest.raises(ValueError, match="3 values for 2 timestamps"):
        replay([T0, T0], {"a": np.zeros(3)}, PerMetricDevice(), RecordingPolicy())


def test_device_table_rules(tmp_path: Path) -> None:
    path = tmp_path / "pump.csv"
    write_device_csv(path)
    table = read_device_table(path, ignore={"noisy"})
    assert list(table.metrics) == ["pressure", "flow"]
    assert table.timestamps[6] == table.timestamps[7]
    assert read_device_table(path).metrics.keys() == {"pressure", "flow", "noisy"}

    first_column = tmp_path / "first.csv"
    first_column.write_text("when,x,y\n2024-01-01T00:00:00,1,\n2024-01-01T00:05:00,2,3\n")
    table = read_device_table(first_column)
    assert table.timestamps[1] == datetime(2024, 1, 1, 0, 5)
    assert math.isnan(table.metrics["y"][0])

    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\nyesterday,1\n")
    with pytest.raises(ValueError, match="ISO 8601"):
        read_device_table(bad)
    (tmp_path / "text.csv").write_text("timestamp,name\n2024-01-01,a\n")
    with pytest.raises(ValueError, match="no numeric column"):
        read_device_table(tmp_path / "text.csv")
    assert csv_files(path) == [(path, "pump.csv")]


def test_replay_and_evaluate_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    write_device_csv(data / "site" / "pump.csv")
    window = write_nab_csv(data / "nab" / "series.csv")
    labels = tmp_path / "windows.json"
    labels.write_text(json.dumps({"nab/series.csv": [list(window)]}))

    assert main(["replay", str(data), "--out", str(out), "--ignore-columns", "noisy"]) == 0
    err = capsys.readouterr().err
    assert "file 2/2" in err and "replayed 2 file(s)" in err
    assert not list(out.rglob("*.png")), "no plot unless asked"

    pump = read_rows(out / "site" / "pump.csv")
    assert list(pump[0]) == [
        "Datetime",
        "pressure",
        "flow",
        "status",
        "noisy",
        "anomaly_score",
        "alert",
        "tier",
        "active",
    ]
    assert len(pump) == N_ROWS and pump[7]["Datetime"] == pump[6]["Datetime"]
    alerts = [i for i, row in enumerate(pump) if row["alert"] == "1"]
    assert alerts and set(alerts) <= set(INCIDENT), f"alerts only in the incident, got {alerts}"
    assert pump[alerts[0]]["tier"] in {"2", "3", "4"} and pump[0]["tier"] == "0"
    assert all((row["active"] == "1") == (row["tier"] != "0") for row in pump), "active is the open warning"
    assert pump[alerts[0]]["active"] == "1" and pump[alerts[0] - 1]["active"] == "0"
    # a generic device's first deviating reading is evidence once the next confirms it
    assert float(pump[SPIKE_ROW]["anomaly_score"]) == 0.5 < float(pump[SPIKE_ROW + 1]["anomaly_score"])

    assert main(["evaluate", "nab", str(out), "--labels", str(labels), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["alert"]["standard"]["tp"] == 1
    best = report["anomaly_score_best_threshold"]["standard"]
    assert best["tp"] == 1 and best["score"] > 80  # found mid-window; the young wave costs a few FPs
    assert main(["evaluate", "nab", str(out), "--labels", str(labels)]) == 0
    assert "alert column as emitted" in capsys.readouterr().out


def test_replay_command_train_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, out = tmp_path / "pump.csv", tmp_path / "out"
    write_device_csv(data)
    prefix = INCIDENT.stop + 30  # past the incident and the score's decay after it
    argv = ["replay", str(data), "--out", str(out), "--ignore-columns", "noisy", "--train-rows", str(prefix)]
    assert main(argv) == 0
    pump = read_rows(out / "pump.csv")
    assert len(pump) == N_ROWS
    assert all(row["alert"] == row["active"] == row["tier"] == "0" for row in pump), "incident in training"
    assert float(pump[INCIDENT.start + 1]["anomaly_score"]) > 0.5, "training rows are still scored"
    for bad in ("-1", "ten"):
        with pytest.raises(SystemExit):
            main(["replay", str(data), "--out", str(out), "--train-rows", bad])
    assert "is not a number of rows" in capsys.readouterr().err


def test_replay_reports_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "broken.csv").write_text("timestamp,value\nnot-a-time,1\n")
    assert main(["replay", str(tmp_path / "data"), "--out", str(tmp_path / "out")]) == 1
    assert "skipped" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")]) == 1


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_replay_plot_writes_a_png_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed: install the 'plot' extra (the dev extra has it)")
    data, out = tmp_path / "data", tmp_path / "out"
    write_device_csv(data / "site" / "pump.csv")
    window = write_nab_csv(data / "nab" / "series.csv")
    labels = tmp_path / "windows.json"
    labels.write_text(json.dumps({"nab/series.csv": [list(window)]}))
    argv = ["replay", str(data), "--out", str(out), "--plot", "--labels", str(labels)]
    assert main(argv) == 0
    assert "replayed 2 file(s)" in capsys.readouterr().err
    for png in (out / "site" / "pump.png", out / "nab" / "series.png"):
        assert png.read_bytes()[:8] == PNG_SIGNATURE, f"{png} is not a PNG"
        assert png.stat().st_size > 10_000, "a plot of series, score and alerts, not an empty canvas"


def test_replay_plot_without_matplotlib_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec

    def without_matplotlib(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "matplotlib" else find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_matplotlib)
    write_nab_csv(tmp_path / "data" / "series.csv")
    assert main(["replay", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--plot"]) == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib" in err and "riskwatch[plot]" in err
    assert not (tmp_path / "out").exists(), "nothing is written when the plots cannot be"


def test_the_assessment_policy_resolves_a_warning_whose_scores_drop_at_once() -> None:
    """Only the first quiet reading is forwarded; every dropped reading still advances the
    ladder at the device's event time, as the worker advances a community on each quiet
    reading, so the warning resolves after the ladder's exit dwell (5 minutes and 5 inputs),
    not after the signal's 10-minute time to live."""
    policy = AssessmentPolicy(Settings(), "replay/level", "water_level", "test")
    high, quiet = Score.of_decades(12.0, 1.0), Score.of_decades(0.1, 1.0)
    scores = [high] * 30 + [quiet] * 30
    tiers = [policy.observe(T0 + timedelta(minutes=i), score, LEVEL).tier for i, score in enumerate(scores)]
    assert tiers[29] > 0, "opened on the high readings"
    assert tiers[34] > 0, "held through the exit dwell"
    assert tiers[35] == 0, "resolved 5 minutes after the first quiet reading"


def test_a_weak_forwarded_reading_does_not_extend_the_exit_dwell() -> None:
    """A reading strong enough to be forwarded (surprise 4, a generic device's unconfirmed
    deviation) but too weak to count as a witness must not hold the warning: it is judged
    like every other reading, and the ladder resolves on time."""
    policy = AssessmentPolicy(Settings(), "replay/level", "water_level", "test")
    high, weak, quiet = Score.of_decades(12.0, 1.0), Score.of_decades(4.0, 1.0), Score.of_decades(0.1, 1.0)
    scores = [high] * 30 + [quiet] * 3 + [weak] + [quiet] * 26
    tiers = [policy.observe(T0 + timedelta(minutes=i), score, LEVEL).tier for i, score in enumerate(scores)]
    assert tiers[34] > 0 and tiers[35] == 0, f"resolved at {tiers.index(0, 30)}, not 35"


def test_a_generic_series_is_warned_for_its_deviation_not_graded_in_metres() -> None:
    """A generic file's values have no unit: replay assesses them for the flood hazard, but a
    step of 900 units is not 900 m of water. Its warning stays at IV (no line grades it), where
    the same readings replayed as a gauge's are graded on their rise."""
    settings = Settings()
    values = np.concatenate([np.full(300, 100.0), np.full(40, 1000.0), np.full(90, 100.0)])
    values += np.random.default_rng(3).normal(0.0, 1.0, values.size)
    stamps = [T0 + timedelta(minutes=i) for i in range(values.size)]
    tiers = {}
    for kind in ("generic", "water_level"):
        policy = AssessmentPolicy(settings, f"replay/{kind}", kind, "test")
        model = PerMetricDevice(live_series_model(settings, kind))
        tiers[kind] = set(replay(stamps, {"level": values}, model, policy).tier.tolist()) - {0}
    assert tiers["generic"] == {4}, "warned, at IV only"
    assert min(tiers["water_level"]) < 4, "a gauge's 900 m rise is graded above IV"
