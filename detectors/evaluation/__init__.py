"""Offline evaluation of anomaly detectors: replay, NAB scoring, row-level scoring of the warning state."""

from detectors.evaluation.nab import (
    STANDARD_PROFILES,
    CostProfile,
    LabeledSeries,
    NabReport,
    ProfileResult,
    probation_length,
    score_at_threshold,
    score_corpus,
    window_ranges,
)
from detectors.evaluation.nab_io import (
    evaluate_directory,
    load_profiles,
    load_windows,
    read_scored_dir,
)
from detectors.evaluation.rows import RowReport, row_report, rows_table

__all__ = [
    "STANDARD_PROFILES",
    "CostProfile",
    "LabeledSeries",
    "NabReport",
    "ProfileResult",
    "RowReport",
    "evaluate_directory",
    "load_profiles",
    "load_windows",
    "probation_length",
    "read_scored_dir",
    "row_report",
    "rows_table",
    "score_at_threshold",
    "score_corpus",
    "window_ranges",
]
