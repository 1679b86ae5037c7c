"""File access for NAB scoring: labels, profiles and scored CSV directories.

Kept apart from :mod:`detectors.evaluation.nab` so the scoring rules stay pure.
File keys are paths relative to a data or output directory, written with ``/``,
e.g. ``realKnownCause/nyc_taxi.csv``, the same keys as NAB's label file.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from detectors.evaluation.nab import (
    STANDARD_PROFILES,
    CostProfile,
    FloatArray,
    LabeledSeries,
    NabReport,
    score_at_threshold,
    score_corpus,
)


def load_profiles(path: Path) -> list[CostProfile]:
    """Read NAB's ``config/profiles.json`` into cost profiles, in file order."""
    data = json.loads(Path(path).read_text())
    return [
        CostProfile(
            name,
            tp=float(entry["CostMatrix"]["tpWeight"]),
            fn=float(entry["CostMatrix"]["fnWeight"]),
            fp=float(entry["CostMatrix"]["fpWeight"]),
        )
        for name, entry in data.items()
    ]


def load_windows(path: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    """Read NAB's ``labels/combined_windows.json``: file key -> ``(start, end)`` list."""
    data = json.loads(Path(path).read_text())
    return {
        name: [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in windows]
        for name, windows in data.items()
    }


def read_scored_dir(
    out_dir: Path, column: str, names: Iterable[str] | None = None
) -> tuple[dict[str, list[datetime]], dict[str, FloatArray]]:
    """Read timestamps and one numeric column from CSV files under ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Directory holding CSVs with a ``timestamp`` column, e.g. a pipeline's
        ``timestamp,value,...,anomaly_score,alert,tier`` output.
    column : str
        Column to read as the per-row score; empty cells become NaN (never a detection).
    names : Iterable[str], optional
        File keys to read; by default every ``*.csv`` below ``out_dir``.

    Returns
    -------
    tuple[dict[str, list[datetime]], dict[str, FloatArray]]
        Timestamps and scores per file key, rows in file order.
    """
    out_dir = Path(out_dir)
    if names is None:
        names = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.csv"))
    timestamps: dict[str, list[datetime]] = {}
    scores: dict[str, FloatArray] = {}
    for name in names:
        timestamps[name], scores[name] = _read_csv(out_dir / name, column)
    return timestamps, scores


def evaluate_directory(
    out_dir: Path,
    labels: Path,
    column: str = "anomaly_score",
    profiles: Sequence[CostProfile] = STANDARD_PROFILES,
    threshold: float | None = None,
) -> NabReport:
    """NAB-score the labelled files found under ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Directory mirroring NAB's ``data/`` layout with scored CSVs.
    labels : Path
        NAB's ``combined_windows.json``. Only files named there are scored, and
        normalisation covers just the files found.
    column : str
        Score column; ``"alert"`` with ``threshold=0.5`` scores binary alerts.
    profiles : Sequence[CostProfile]
        Profiles to report.
    threshold : float, optional
        Fixed detection threshold; by default the best one is searched per profile.

    Raises
    ------
    FileNotFoundError
        If no labelled file is present under ``out_dir``.
    """
    windows = load_windows(labels)
    names = [name for name in sorted(windows) if (Path(out_dir) / name).is_file()]
    if not names:
        raise FileNotFoundError(f"no file named in {labels} found under {out_dir}")
    timestamps, scores = read_scored_dir(out_dir, column, names)
    series = {name: LabeledSeries(name, timestamps[name], windows[name]) for name in names}
    if threshold is None:
        return score_corpus(series, scores, profiles)
    return NabReport(tuple(score_at_threshold(series, scores, p, threshold) for p in profiles))


def _read_csv(path: Path, column: str) -> tuple[list[datetime], FloatArray]:
    """Read the ``timestamp`` column and ``column`` of one CSV file."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if "timestamp" not in header or column not in header:
            raise ValueError(f"{path}: needs columns 'timestamp' and {column!r}, has {header}")
        stamp_at, value_at = header.index("timestamp"), header.index(column)
        rows = [(row[stamp_at], row[value_at]) for row in reader]
    stamps = [datetime.fromisoformat(stamp) for stamp, _ in rows]
    values = np.array([float(value) if value else math.nan for _, value in rows], dtype=np.float64)
    return stamps, values
