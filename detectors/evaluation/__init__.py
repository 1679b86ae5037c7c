"""Offline evaluation of anomaly detectors, currently NAB scoring."""

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

__all__ = [
    "STANDARD_PROFILES",
    "CostProfile",
    "LabeledSeries",
    "NabReport",
    "ProfileResult",
    "evaluate_directory",
    "load_profiles",
    "load_windows",
    "probation_length",
    "read_scored_dir",
    "score_at_threshold",
    "score_corpus",
    "window_ranges",
]
