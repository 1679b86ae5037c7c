"""Row-level scoring of the warning state: hand-computed cases, the file reader and ``evaluate rows``."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from detectors.evaluation.replay_io import read_warning_state
from detectors.evaluation.rows import RowReport, row_report, rows_table
from pipeline.cli import main

T0 = datetime(2016, 8, 3)
GECCO = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "gecco-water"
GECCO_ROWS = 20_000
"""About 14 days of the file, holding its first 8 labelled events."""


def minutes(n: int) -> list[datetime]:
    return [T0 + timedelta(minutes=i) for i in range(n)]


def test_counts_delay_and_a_missed_event() -> None:
    #        rows:  0  1  2  3  4  5  6  7  8  9 10 11
    label = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0]
    active = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0]
    report = row_report(minutes(12), active, label)
    # TP rows 3, 4; FP rows 5, 10; FN rows 1, 2, 7, 8.
    assert (report.true_positives, report.false_positives, report.false_negatives) == (2, 2, 4)
    assert report.precision == 0.5 and report.recall == pytest.approx(1 / 3)
    assert report.f1 == pytest.approx(2 * 2 / (2 * 2 + 2 + 4))
    # Event 1 starts at row 1 and is first warned at row 3: 2 minutes. Event 2 (rows 7-8) is missed.
    assert (report.events, report.events_missed, report.delays_s) == (2, 1, (120.0,))
    assert report.mean_delay_s == 120.0
    # Warnings open at rows 3 and 10, over 11 minutes.
    assert report.warnings_opened == 2
    assert report.days == pytest.approx(11 / 1440)
    assert report.warnings_per_day == pytest.approx(2 / (11 / 1440))


def test_a_warning_open_before_the_event_has_no_delay_and_edges_count() -> None:
    # Both start on at row 0 (a run from the first row is an opening and an event); the label
    # runs to the last row; a warning opened before the second event still finds it at once.
    label = [1, 1, 0, 0, 0, 1, 1]
    active = [1, 0, 0, 1, 1, 1, 1]
    report = row_report(minutes(7), active, label)
    assert report.warnings_opened == 2 and report.events == 2 and report.events_missed == 0
    assert report.delays_s == (0.0, 0.0)
    assert (report.true_positives, report.false_positives, report.false_negatives) == (3, 2, 1)


def test_nothing_warned_or_labelled_is_zero_not_an_error() -> None:
    quiet = row_report(minutes(3), [0, 0, 0], [0, 0, 0])
    assert (quiet.precision, quiet.recall, quiet.f1, quiet.warnings_per_day) == (0.0, 0.0, 0.0, 0.0)
    assert math.isnan(quiet.mean_delay_s) and quiet.figures()["mean_delay_min"] is None
    missed = row_report(minutes(3), [0, 0, 0], [0, 1, 0])
    assert (missed.events, missed.events_missed, missed.recall) == (1, 1, 0.0)
    assert math.isnan(row_report(minutes(1), [1], [1]).warnings_per_day), "one row covers no time"
    with pytest.raises(ValueError, match="3 timestamps, 2 active and 3 label"):
        row_report(minutes(3), [0, 0], [0, 0, 0])


def test_reports_pool_by_adding_counts() -> None:
    one = row_report(minutes(12), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0], [0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0])
    other = RowReport(100, 10, 0, 0, 1, 1.0, 1, 0, (300.0,))
    pooled = one + other
    assert pooled.true_positives == 12 and pooled.events == 3 and pooled.events_missed == 1
    assert pooled.mean_delay_s == 210.0
    assert pooled.f1 == pytest.approx(2 * 12 / (2 * 12 + 2 + 4))
    table = rows_table({"a.csv": one, "all files": pooled})
    assert table.splitlines()[0].split()[:3] == ["file", "rows", "precision"]
    assert "3.5 min" in table.splitlines()[2]


def write_scored(path: Path, active: list[int], label: list[str]) -> None:
    lines = ["timestamp,value,event,anomaly_score,alert,tier,active"]
    for at, warned, cell in zip(minutes(len(active)), active, label, strict=True):
        lines.append(f"{at:%Y-%m-%d %H:%M:%S},1.0,{cell},0.1,0,{4 if warned else 0},{warned}")
    path.write_text("\n".join(lines) + "\n")


def test_reader_takes_the_replay_output_and_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_scored(path, [0, 1, 1], ["0", "1.0", "0"])
    assert read_warning_state(path, "event") == (minutes(3), [0, 1, 1], [0, 1, 0])
    with pytest.raises(ValueError, match=r"no column \['label'\]"):
        read_warning_state(path, "label")
    write_scored(path, [0, 1, 1], ["0", "TRUE", "0"])
    with pytest.raises(
        ValueError, match=r"out.csv:3: 'active' and 'event' must be 0 or 1, got '1' and 'TRUE'"
    ):
        read_warning_state(path, "event")


def test_evaluate_rows_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_scored(out / "a.csv", [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0], list("011110011000"))
    write_scored(out / "b.csv", [0, 1, 1], list("011"))
    assert main(["evaluate", "rows", str(out), "--label", "event", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == ["a.csv", "b.csv", "all files"]
    assert figures["a.csv"]["events_missed"] == 1 and figures["a.csv"]["mean_delay_min"] == 2.0
    assert figures["all files"]["events"] == 3 and figures["all files"]["f1"] == pytest.approx(8 / 14)
    assert main(["evaluate", "rows", str(out / "b.csv"), "--label", "event"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("b.csv")
    assert main(["evaluate", "rows", str(out), "--label", "missing"]) == 1
    assert "no column ['missing']" in capsys.readouterr().err
    assert main(["evaluate", "rows", str(tmp_path / "nothing"), "--label", "event"]) == 1


def test_gecco_water_replay_scored_by_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = GECCO / "gecco2018_water_quality.csv"
    if not source.is_file():
        pytest.skip(f"../shared/datasets/gecco-water not present: no GECCO water-quality file at {source}")
    head = source.read_text().splitlines()[: GECCO_ROWS + 1]
    data = tmp_path / "gecco.csv"
    data.write_text("\n".join(head) + "\n")
    argv = ["replay", str(data), "--out", str(tmp_path / "out"), "--ignore-columns", "event"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["evaluate", "rows", str(tmp_path / "out"), "--label", "event", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["gecco.csv"]
    assert figures["rows"] == GECCO_ROWS and figures["events"] == 8
    assert figures["days"] == pytest.approx((GECCO_ROWS - 1) / 1440)
    assert 0 <= figures["events_missed"] <= 8 and 0.0 <= figures["f1"] <= 1.0
