"""Row-level scoring of a warning state against a 0/1 label, no I/O.

Benchmarks like GECCO's water-quality challenge label every row as event or
not and rank by row-level F1. An operator sees more than F1, so the report
also says how often a warning opens (an opening is a row where the state goes
0 → 1, the first row counting when it is already on), how long after an event
starts (label 0 → 1) the first warned row inside it comes, and how many
events had no warned row at all.

>>> from datetime import datetime, timedelta
>>> stamps = [datetime(2024, 1, 1) + timedelta(hours=6 * i) for i in range(9)]
>>> report = row_report(stamps, [0, 0, 1, 1, 0, 0, 0, 1, 0], [0, 1, 1, 1, 0, 0, 1, 0, 0])
>>> report.true_positives, report.false_positives, report.false_negatives
(2, 1, 2)
>>> report.events, report.events_missed, report.mean_delay_s / 3600
(2, 1, 6.0)
>>> report.warnings_opened, report.days, report.warnings_per_day
(2, 2.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RowReport:
    """How a per-row warning state matched a per-row label.

    Attributes
    ----------
    rows : int
        Rows scored.
    true_positives, false_positives, false_negatives : int
        Rows warned and labelled, warned only, labelled only.
    warnings_opened : int
        Rows where the state went 0 → 1.
    days : float
        Time covered: last timestamp minus first, in days (summed over files).
    events : int
        Labelled events: runs of consecutive labelled rows.
    events_missed : int
        Events without a warned row inside them.
    delays_s : tuple[float, ...]
        For each event found, seconds from its first row to its first warned row.
    """

    rows: int
    true_positives: int
    false_positives: int
    false_negatives: int
    warnings_opened: int
    days: float
    events: int
    events_missed: int
    delays_s: tuple[float, ...]

    @property
    def precision(self) -> float:
        """Share of warned rows that are labelled; 0 when no row is warned."""
        warned = self.true_positives + self.false_positives
        return self.true_positives / warned if warned else 0.0

    @property
    def recall(self) -> float:
        """Share of labelled rows that are warned; 0 when no row is labelled."""
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 0.0

    @property
    def f1(self) -> float:
        """``2·TP / (2·TP + FP + FN)``, the competition's score; 0 when nothing is warned or labelled."""
        total = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / total if total else 0.0

    @property
    def warnings_per_day(self) -> float:
        """Warnings opened per day covered; NaN when the rows cover no time."""
        return self.warnings_opened / self.days if self.days else math.nan

    @property
    def mean_delay_s(self) -> float:
        """Mean of :attr:`delays_s`; NaN when no event was found."""
        return sum(self.delays_s) / len(self.delays_s) if self.delays_s else math.nan

    def figures(self) -> dict[str, float | None]:
        """The figures of the report by name, delay in minutes; ``None`` where undefined."""
        figures = {
            "rows": self.rows,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "warnings_opened": self.warnings_opened,
            "days": self.days,
            "warnings_per_day": self.warnings_per_day,
            "events": self.events,
            "events_missed": self.events_missed,
            "mean_delay_min": self.mean_delay_s / 60,
        }
        return {name: None if math.isnan(value) else value for name, value in figures.items()}

    def __add__(self, other: RowReport) -> RowReport:
        """Both reports pooled, e.g. the files of one replay: counts and days add up.

        >>> one = RowReport(10, 2, 1, 1, 1, 0.5, 1, 0, (60.0,))
        >>> (one + one).f1, (one + one).warnings_per_day, (one + one).delays_s
        (0.6666666666666666, 2.0, (60.0, 60.0))
        """
        return RowReport(
            self.rows + other.rows,
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
            self.warnings_opened + other.warnings_opened,
            self.days + other.days,
            self.events + other.events,
            self.events_missed + other.events_missed,
            self.delays_s + other.delays_s,
        )


def _runs(flags: BoolArray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of consecutive true rows; a run may start at row 0.

    >>> _runs(np.array([True, False, True, True]))
    [(0, 1), (2, 4)]
    """
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def row_report(timestamps: Sequence[datetime], active: Sequence[int], label: Sequence[int]) -> RowReport:
    """Score one file's warning state ``active`` against ``label``, both 0/1 per row.

    Raises
    ------
    ValueError
        If the three sequences differ in length.
    """
    if not len(timestamps) == len(active) == len(label):
        raise ValueError(
            f"{len(timestamps)} timestamps, {len(active)} active and {len(label)} label values: "
            "one of each per row is needed"
        )
    warned = np.asarray(active, dtype=np.int64) != 0
    labelled = np.asarray(label, dtype=np.int64) != 0
    events = _runs(labelled)
    delays: list[float] = []
    for start, stop in events:
        hits = np.flatnonzero(warned[start:stop])
        if hits.size:
            delays.append((timestamps[start + int(hits[0])] - timestamps[start]).total_seconds())
    days = (timestamps[-1] - timestamps[0]).total_seconds() / 86_400 if timestamps else 0.0
    return RowReport(
        rows=len(timestamps),
        true_positives=int(np.sum(warned & labelled)),
        false_positives=int(np.sum(warned & ~labelled)),
        false_negatives=int(np.sum(~warned & labelled)),
        warnings_opened=len(_runs(warned)),
        days=days,
        events=len(events),
        events_missed=len(events) - len(delays),
        delays_s=tuple(delays),
    )


def rows_table(reports: Mapping[str, RowReport]) -> str:
    """An aligned text table, one line per named report (a file, or the files pooled)."""
    line = "{:<40} {:>8} {:>9} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>14}".format
    lines = [
        line(
            "file", "rows", "precision", "recall", "F1", "opened", "per day", "events", "missed", "mean delay"
        )
    ]
    lines += [
        line(
            name,
            r.rows,
            f"{r.precision:.3f}",
            f"{r.recall:.3f}",
            f"{r.f1:.3f}",
            r.warnings_opened,
            f"{r.warnings_per_day:.2f}",
            r.events,
            r.events_missed,
            f"{r.mean_delay_s / 60:.1f} min",
        )
        for name, r in reports.items()
    ]
    return "\n".join(lines)
