"""CSV files for replay: find them, read one device's table, write the scored copy.

Input rules (``riskwatch replay``):

* the delimiter is ``;`` when the header line has more ``;`` than ``,``, else ``,``;
* the timestamp column is ``timestamp`` or ``datetime`` (any case), else the
  first column; timestamps are ISO 8601 (``2024-01-01 10:00:00`` works);
* every other column whose non-empty cells are all numbers is a metric of one
  device, unless ignored; other columns are carried through unscored.

The output keeps the input columns and appends ``anomaly_score``, ``alert``,
``tier`` and ``active``; it is always comma-separated, rows in input order.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from detectors.evaluation.replay import FloatArray, ReplayResult

TIMESTAMP_NAMES = ("timestamp", "datetime")
OUTPUT_COLUMNS = ("anomaly_score", "alert", "tier", "active")


@dataclass(frozen=True)
class DeviceTable:
    """One CSV file read for replay.

    Attributes
    ----------
    header : list[str]
        Input column names, in file order.
    rows : list[list[str]]
        Input cells as text, written back unchanged.
    timestamps : list[datetime]
        Parsed timestamp of each row.
    metrics : dict[str, FloatArray]
        Numeric columns judged as metrics (NaN where a cell is empty).
    """

    header: list[str]
    rows: list[list[str]]
    timestamps: list[datetime]
    metrics: dict[str, FloatArray]


def csv_files(data: Path) -> list[tuple[Path, str]]:
    """``(path, relative key)`` of ``data`` itself or of every ``*.csv`` below it, sorted.

    >>> csv_files(Path("/no/such/dir"))
    []
    """
    if data.is_file():
        return [(data, data.name)]
    return [(path, path.relative_to(data).as_posix()) for path in sorted(data.rglob("*.csv"))]


def _number(cell: str) -> float | None:
    """The cell as a float, NaN when empty, ``None`` when not a number."""
    if not cell.strip():
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return None


def _timestamp_column(header: list[str]) -> int:
    """Index of the timestamp column: ``timestamp`` or ``datetime`` (any case), else the first.

    >>> _timestamp_column(["value", "Datetime"]), _timestamp_column(["when", "value"])
    (1, 0)
    """
    lowered = [name.lower() for name in header]
    return next((lowered.index(n) for n in TIMESTAMP_NAMES if n in lowered), 0)


def read_device_table(path: Path, ignore: Collection[str] = ()) -> DeviceTable:
    """Read one device's CSV (see the module docstring for the rules).

    Raises
    ------
    ValueError
        If the file is empty, a timestamp does not parse, or no metric column is left.
    """
    text = path.read_text()
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = [row for row in csv.reader(text.splitlines(), delimiter=delimiter) if row]
    if not records:
        raise ValueError(f"{path}: empty file, expected a header line")
    header, rows = [name.strip() for name in records[0]], records[1:]
    stamp_at = _timestamp_column(header)
    try:
        timestamps = [datetime.fromisoformat(row[stamp_at].strip()) for row in rows]
    except (ValueError, IndexError) as error:
        raise ValueError(
            f"{path}: column {header[stamp_at]!r} must hold ISO 8601 timestamps ({error})"
        ) from None
    metrics: dict[str, FloatArray] = {}
    for column, name in enumerate(header):
        if column == stamp_at or name in ignore:
            continue
        values = [_number(row[column]) if column < len(row) else math.nan for row in rows]
        if all(value is not None for value in values):
            metrics[name] = np.array(values, dtype=np.float64)
    if not metrics:
        raise ValueError(f"{path}: no numeric column left to score besides {header[stamp_at]!r}")
    return DeviceTable(header, rows, timestamps, metrics)


def write_scored_table(path: Path, table: DeviceTable, result: ReplayResult) -> None:
    """Write the input columns plus ``anomaly_score``, ``alert``, ``tier`` and ``active``, comma-separated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*table.header, *OUTPUT_COLUMNS])
        for row, score, alert, tier, active in zip(
            table.rows,
            result.anomaly_score.tolist(),
            result.alert.tolist(),
            result.tier.tolist(),
            result.active.tolist(),
            strict=True,
        ):
            writer.writerow([*row, repr(score), alert, tier, active])


def _flag(cell: str) -> int | None:
    """A 0/1 cell (``1.0`` too) as an int, ``None`` when it is anything else."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return int(value) if value in (0.0, 1.0) else None


def read_warning_state(path: Path, label: str) -> tuple[list[datetime], list[int], list[int]]:
    """Timestamps, ``active`` and the 0/1 column ``label`` of a file :func:`write_scored_table` wrote.

    Raises
    ------
    ValueError
        If a column is missing, a timestamp does not parse, or a cell of
        ``active`` or ``label`` is not 0 or 1.
    """
    with path.open(newline="") as handle:
        records = [row for row in csv.reader(handle) if row]
    header = [name.strip() for name in records[0]] if records else []
    missing = [name for name in ("active", label) if name not in header]
    if missing:
        raise ValueError(f"{path}: no column {missing}; has {header} (is it 'riskwatch replay' output?)")
    stamp_at, active_at, label_at = _timestamp_column(header), header.index("active"), header.index(label)
    timestamps, active, labels = [], [], []
    for line, row in enumerate(records[1:], 2):
        try:
            timestamps.append(datetime.fromisoformat(row[stamp_at].strip()))
        except ValueError as error:
            raise ValueError(f"{path}:{line}: {header[stamp_at]!r} is not ISO 8601 ({error})") from None
        warned, labelled = _flag(row[active_at]), _flag(row[label_at])
        if warned is None or labelled is None:
            cells = f"{row[active_at]!r} and {row[label_at]!r}"
            raise ValueError(f"{path}:{line}: 'active' and {label!r} must be 0 or 1, got {cells}")
        active.append(warned)
        labels.append(labelled)
    return timestamps, active, labels
