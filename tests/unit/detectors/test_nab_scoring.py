"""Tests for the NAB scorer: hand-computed cases, a brute-force cross-check and
the published reference numbers for Numenta HTM."""

from __future__ import annotations

import csv
import gzip
import math
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.evaluation import (
    STANDARD_PROFILES,
    CostProfile,
    LabeledSeries,
    evaluate_directory,
    load_profiles,
    load_windows,
    probation_length,
    read_scored_dir,
    score_at_threshold,
    score_corpus,
    window_ranges,
)

NAB_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "nab"
STANDARD, LOW_FP, LOW_FN = STANDARD_PROFILES
T0 = datetime(2020, 1, 1)

Files = list[tuple[list[tuple[int, int]], list[float]]]  # (window row ranges, scores) per file


def g(x: float) -> float:
    """NAB's scaled sigmoid, written out independently of the module."""
    return -1.0 if x >= 3 else 2 / (1 + math.exp(5 * x)) - 1


def make_corpus(files: Files) -> tuple[dict[str, LabeledSeries], dict[str, np.ndarray]]:
    """Build series whose rows are one minute apart, windows given as row ranges."""
    series, scores = {}, {}
    for number, (ranges, values) in enumerate(files):
        name = f"cat/file{number}.csv"
        stamps = [T0 + timedelta(minutes=i) for i in range(len(values))]
        series[name] = LabeledSeries(name, stamps, [(stamps[s], stamps[e]) for s, e in ranges])
        scores[name] = np.array(values, dtype=float)
    return series, scores


def naive_raw(files: Files, profile: CostProfile, threshold: float) -> float:
    """Row-by-row raw score, straight from the rules."""
    raw = 0.0
    for ranges, values in files:
        n = len(values)
        probation = min(math.floor(0.15 * n), 750)
        for start, end in ranges:
            if end < probation:
                continue
            hits = [i for i in range(max(start, probation), end + 1) if values[i] >= threshold]
            if hits:
                raw += profile.tp * g(-(end - hits[0] + 1) / (end - start + 1)) / g(-1)
            else:
                raw -= profile.fn
        for i in range(probation, n):
            if values[i] < threshold or any(s <= i <= e for s, e in ranges):
                continue
            before = [(s, e) for s, e in ranges if e < i]
            if not before:
                raw -= profile.fp
            else:
                s, e = before[-1]
                raw += profile.fp * (g((i - e) / (e - s)) if e > s else -1.0)
    return raw


def detections(n: int, rows: list[int]) -> list[float]:
    return [1.0 if i in rows else 0.0 for i in range(n)]


# One 20-row file (probation = 3 rows) with a 4-row window on rows 8..11.
WINDOW = [(8, 11)]


def raw_of(
    rows: list[int],
    profile: CostProfile = STANDARD,
    ranges: list[tuple[int, int]] = WINDOW,
    n: int = 20,
) -> float:
    series, scores = make_corpus([(ranges, detections(n, rows))])
    return score_at_threshold(series, scores, profile, 0.5).raw


def test_probation_length() -> None:
    expected = {0: 0, 6: 0, 7: 1, 20: 3, 4999: 749, 5000: 750, 10**6: 750}
    assert {n: probation_length(n) for n in expected} == expected


def test_detection_on_window_start_earns_exactly_tp() -> None:
    assert raw_of([8]) == pytest.approx(1.0, abs=1e-12)
    assert raw_of([8], LOW_FN) == pytest.approx(1.0, abs=1e-12)


def test_missed_window_costs_fn() -> None:
    assert raw_of([]) == -1.0
    assert raw_of([], LOW_FN) == -2.0


def test_false_positive_with_no_window_before_costs_full_fp() -> None:
    assert raw_of([4]) == pytest.approx(-1.0 - 0.11)
    assert raw_of([4], LOW_FP) == pytest.approx(-1.0 - 0.22)


def test_probation_rows_are_ignored() -> None:
    assert raw_of([0, 1, 2]) == -1.0
    assert raw_of([2, 8]) == pytest.approx(1.0)


def test_only_earliest_detection_in_window_counts() -> None:
    expected = g(-3 / 4) / g(-1)  # row 9: 3 rows to the window end, inclusive
    assert 0 < expected < 1
    assert raw_of([9]) == pytest.approx(expected)
    assert raw_of([9, 10, 11]) == pytest.approx(expected)


def test_late_false_positive_is_cheap_and_distant_one_full() -> None:
    ranges = [(20, 29)]  # width 10, so L - 1 = 9; the window start earns 1.0
    late = raw_of([20, 30], ranges=ranges, n=60) - 1.0
    assert late == pytest.approx(0.11 * g(1 / 9))
    assert -0.11 < late < -0.02
    assert raw_of([20, 29 + 27], ranges=ranges, n=60) - 1.0 == pytest.approx(-0.11)  # d/(L-1) = 3


def test_counts_and_normalisation() -> None:
    files: Files = [
        ([(8, 11)], detections(20, [8, 4])),  # hit on the first row, one FP
        ([(10, 13), (20, 25)], detections(30, [12])),  # one late hit, one miss
    ]
    series, scores = make_corpus(files)
    result = score_at_threshold(series, scores, STANDARD, 0.5)
    expected_raw = 1.0 - 0.11 + g(-2 / 4) / g(-1) - 1.0
    assert (result.tp, result.fn, result.fp) == (2, 1, 1)
    assert (result.raw_null, result.raw_perfect) == (-3.0, 3.0)
    assert result.raw == pytest.approx(expected_raw)
    assert result.score == pytest.approx(100 * (expected_raw + 3) / 6)

    perfect = {
        name: np.array(detections(len(values), [start for start, _ in window_ranges(series[name])]))
        for name, values in scores.items()
    }
    assert score_at_threshold(series, perfect, STANDARD, 0.5).score == pytest.approx(100.0)
    assert score_at_threshold(series, scores, STANDARD, math.inf).score == 0.0


def test_sweep_picks_best_threshold_on_hand_corpus() -> None:
    # 0.9 hits the window start; 0.5 adds two FPs; nothing else scores above 0.
    values = [0.0] * 20
    values[8], values[4], values[16] = 0.9, 0.5, 0.5
    series, scores = make_corpus([(WINDOW, values)])
    report = score_corpus(series, scores)
    for result in report.results:
        assert result.threshold == 0.9
        assert (result.tp, result.fn, result.fp) == (1, 0, 0)
        assert result.score == pytest.approx(100.0)
    assert "standard" in report.as_table()


def test_window_ranges_follow_positions_with_repeated_timestamps() -> None:
    stamps = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    window = (T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert window_ranges(LabeledSeries("dup", stamps, [window])) == [(1, 3)]
    with pytest.raises(ValueError, match="matches no row"):
        window_ranges(LabeledSeries("gap", stamps, [(T0 + timedelta(seconds=30), window[1])]))
    with pytest.raises(ValueError, match="overlap"):
        window_ranges(LabeledSeries("overlap", stamps, [(stamps[0], stamps[2]), window]))


def test_scores_must_match_series() -> None:
    series, scores = make_corpus([(WINDOW, [0.0] * 20)])
    with pytest.raises(ValueError, match="scores for 20 rows"):
        score_corpus(series, {name: values[:-1] for name, values in scores.items()})
    with pytest.raises(ValueError, match="different files"):
        score_corpus(series, {**scores, "other.csv": np.zeros(3)})


@st.composite
def corpora(draw: st.DrawFn) -> Files:
    files: Files = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 60))
        ranges: list[tuple[int, int]] = []
        cursor = draw(st.integers(0, n))
        while cursor < n and draw(st.booleans()):
            width = draw(st.integers(1, min(8, n - cursor)))
            ranges.append((cursor, cursor + width - 1))
            cursor += width + draw(st.integers(0, 10))
        values = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=n, max_size=n))
        files.append((ranges, values))
    return files


@settings(max_examples=300, deadline=None)
@given(corpora(), st.sampled_from([0.0, 0.3, 0.5, 1.0, math.inf]))
def test_sweep_and_fixed_threshold_match_brute_force(files: Files, threshold: float) -> None:
    series, scores = make_corpus(files)
    candidates = {v for _, values in files for v in values} | {math.inf}
    for result in score_corpus(series, scores).results:
        brute = max(naive_raw(files, result.profile, t) for t in candidates)
        assert result.raw == pytest.approx(brute, abs=1e-9)
        assert naive_raw(files, result.profile, result.threshold) == pytest.approx(result.raw, abs=1e-9)
    for profile in STANDARD_PROFILES:
        fixed = score_at_threshold(series, scores, profile, threshold)
        assert fixed.raw == pytest.approx(naive_raw(files, profile, threshold), abs=1e-9)


def test_evaluate_directory_reads_pipeline_output(tmp_path: Path) -> None:
    (tmp_path / "out" / "cat").mkdir(parents=True)
    rows = ["timestamp,value,anomaly_score,alert,tier"]
    for i in range(20):
        score = {0: "", 1: "", 4: "0.4", 8: "0.9"}.get(i, "0.0")  # empty: warm-up
        rows.append(f"{T0 + timedelta(minutes=i)},1.0,{score},{int(i in (4, 8))},low")
    (tmp_path / "out" / "cat" / "a.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "out" / "cat" / "unlabelled.csv").write_text("not,a,nab,file\n")
    labels = tmp_path / "windows.json"
    start, end = T0 + timedelta(minutes=8), T0 + timedelta(minutes=11)
    labels.write_text(f'{{"cat/a.csv": [["{start}.000000", "{end}.000000"]]}}')

    swept = evaluate_directory(tmp_path / "out", labels)
    assert swept["standard"].threshold == 0.9 and swept["standard"].fp == 0
    alerts = evaluate_directory(tmp_path / "out", labels, column="alert", threshold=0.5)
    assert alerts["standard"].raw == pytest.approx(1.0 - 0.11)
    assert (alerts["standard"].tp, alerts["standard"].fp) == (1, 1)
    with pytest.raises(FileNotFoundError):
        evaluate_directory(tmp_path / "out" / "cat", labels)


def test_reproduces_published_numenta_htm_scores() -> None:
    if not NAB_DIR.is_dir():
        pytest.skip(f"../shared/datasets/nab not present: no NAB corpus at {NAB_DIR}")
    assert load_profiles(NAB_DIR / "config" / "profiles.json") == list(STANDARD_PROFILES)
    timestamps, _ = read_scored_dir(NAB_DIR / "data", "value")
    windows = load_windows(NAB_DIR / "labels" / "combined_windows.json")
    reference: dict[str, list[float]] = defaultdict(list)
    with gzip.open(NAB_DIR / "reference" / "numenta_htm_scores.csv.gz", "rt", newline="") as handle:
        for record in csv.DictReader(handle):
            assert int(record["row"]) == len(reference[record["file"]])
            reference[record["file"]].append(float(record["anomaly_score"]))
    series = {name: LabeledSeries(name, stamps, windows[name]) for name, stamps in timestamps.items()}
    scores = {name: np.array(values) for name, values in reference.items()}

    report = score_corpus(series, scores)
    assert [round(r.score, 2) for r in report.results] == [70.10, 63.21, 74.32]
    assert all(r.raw_null == -r.profile.fn * 116 for r in report.results)
