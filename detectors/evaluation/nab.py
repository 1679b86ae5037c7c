"""Numenta Anomaly Benchmark (NAB) scoring, written from the published rules.

The module is pure: callers pass timestamps, label windows and per-row anomaly
scores, and get plain results back. Reading files lives in
:mod:`detectors.evaluation.nab_io`, so this code can be tested on corpora built
in memory.

Rules (NAB v1.1):

* Rows are matched to label windows by position. A window runs from the first
  row stamped with its start to the next row stamped with its end.
* The first ``min(floor(0.15 * n), 750)`` rows of a file (probation) are not
  scored, and a window that ends inside probation is not counted at all.
* A row is a detection when its score is at or above the threshold.
* A window earns ``w_tp * g(x) / g(-1)`` for its earliest detection, with
  ``g(x) = 2 / (1 + exp(5x)) - 1`` and ``x = -(rows to the window end,
  inclusive) / width``; a window without detections costs ``w_fn``.
* A detection outside every window costs ``w_fp * -g(d / (L - 1))``, where
  ``d`` is its distance in rows from the end of the previous window and ``L``
  that window's width; with no window before it, it costs the full ``w_fp``.
* Scores are normalised so that the detector that never fires gets 0 and the
  one that hits every window on its first row gets 100.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PROBATION_FRACTION = 0.15
PROBATION_CAP = 750
_SIGMOID_CUTOFF = 3.0  # g(x) is taken as exactly -1 from here on


@dataclass(frozen=True)
class CostProfile:
    """Weights of one NAB application profile.

    Attributes
    ----------
    name : str
        Profile name as used by NAB, e.g. ``"standard"``.
    tp : float
        Reward for a window detected on its first row.
    fn : float
        Cost of a window with no detection.
    fp : float
        Cost of a detection far from any window.
    """

    name: str
    tp: float
    fn: float
    fp: float


STANDARD_PROFILES: tuple[CostProfile, ...] = (
    CostProfile("standard", tp=1.0, fn=1.0, fp=0.11),
    CostProfile("reward_low_FP_rate", tp=1.0, fn=1.0, fp=0.22),
    CostProfile("reward_low_FN_rate", tp=1.0, fn=2.0, fp=0.11),
)
"""NAB's three profiles (``config/profiles.json``), so scoring needs no data files."""


@dataclass(frozen=True)
class LabeledSeries:
    """One data file with its ground-truth windows.

    Attributes
    ----------
    name : str
        File key, e.g. ``"realKnownCause/nyc_taxi.csv"``; used in error messages.
    timestamps : Sequence[datetime]
        One timestamp per row, in file order (may repeat or step back).
    windows : list[tuple[datetime, datetime]]
        ``(start, end)`` of each anomaly window; both must be row timestamps.
    """

    name: str
    timestamps: Sequence[datetime]
    windows: list[tuple[datetime, datetime]]


@dataclass(frozen=True)
class ProfileResult:
    """Outcome for one profile at one threshold.

    Attributes
    ----------
    profile : CostProfile
        The weights used.
    threshold : float
        Scores at or above it are detections; ``inf`` means "detect nothing".
    raw : float
        Sum of window rewards, missed-window costs and false-positive costs.
    raw_null, raw_perfect : float
        Raw score of the detector that never fires and of the perfect one.
    tp, fn : int
        Windows with and without a detection.
    fp : int
        Scored detections outside every window.
    """

    profile: CostProfile
    threshold: float
    raw: float
    raw_null: float
    raw_perfect: float
    tp: int
    fn: int
    fp: int

    @property
    def score(self) -> float:
        """Normalised score: 0 for the null detector, 100 for a perfect one.

        NaN when the corpus has no scored window, as the scale is then undefined.
        """
        span = self.raw_perfect - self.raw_null
        return 100.0 * (self.raw - self.raw_null) / span if span else math.nan


@dataclass(frozen=True)
class NabReport:
    """Results for several profiles on the same corpus."""

    results: tuple[ProfileResult, ...]

    def __getitem__(self, profile_name: str) -> ProfileResult:
        """Return the result of the profile called ``profile_name``."""
        for result in self.results:
            if result.profile.name == profile_name:
                return result
        raise KeyError(profile_name)

    def as_table(self) -> str:
        """Render an aligned text table: profile, threshold, score, TP, FN, FP."""
        row = "{:<20} {:>10} {:>7} {:>5} {:>5} {:>6}".format
        lines = [row("profile", "threshold", "score", "TP", "FN", "FP")]
        lines += [
            row(r.profile.name, f"{r.threshold:.6g}", f"{r.score:.2f}", r.tp, r.fn, r.fp)
            for r in self.results
        ]
        return "\n".join(lines)


def probation_length(n_rows: int) -> int:
    """Number of leading rows NAB leaves unscored (detector warm-up)."""
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_CAP)


def window_ranges(series: LabeledSeries) -> list[tuple[int, int]]:
    """Convert a series' windows to inclusive ``(first_row, last_row)`` ranges.

    Timestamps can repeat, so a window starts at the first row carrying its start
    timestamp and ends at the first row from there on carrying its end timestamp.

    Raises
    ------
    ValueError
        If a boundary timestamp is not a row timestamp, or windows overlap.
    """
    rows_by_time: dict[datetime, list[int]] = {}
    for row, stamp in enumerate(series.timestamps):
        rows_by_time.setdefault(stamp, []).append(row)

    def first_row(stamp: datetime, not_before: int) -> int:
        row = next((r for r in rows_by_time.get(stamp, []) if r >= not_before), None)
        if row is None:
            raise ValueError(f"{series.name}: window boundary {stamp} matches no row")
        return row

    ranges = []
    for start, end in series.windows:
        first = first_row(start, 0)
        ranges.append((first, first_row(end, first)))
    ranges.sort()
    for (_, prev_end), (next_start, _) in itertools.pairwise(ranges):
        if next_start <= prev_end:
            raise ValueError(f"{series.name}: windows overlap at row {next_start}")
    return ranges


def score_at_threshold(
    series: Mapping[str, LabeledSeries],
    scores: Mapping[str, npt.ArrayLike],
    profile: CostProfile,
    threshold: float,
) -> ProfileResult:
    """Score a corpus at a fixed threshold (e.g. 0.5 for a binary alert column).

    Parameters
    ----------
    series : Mapping[str, LabeledSeries]
        The corpus, keyed by file name.
    scores : Mapping[str, array_like]
        One score per row for every file in ``series`` (same keys). NaN never detects.
    profile : CostProfile
        Weights to apply.
    threshold : float
        Rows scoring at or above it are detections.
    """
    return _evaluate(_Corpus.build(series, scores), profile, threshold)


def score_corpus(
    series: Mapping[str, LabeledSeries],
    scores: Mapping[str, npt.ArrayLike],
    profiles: Sequence[CostProfile] = STANDARD_PROFILES,
) -> NabReport:
    """Score a corpus at the best single threshold for each profile.

    Every distinct scored value, plus "detect nothing", is tried, as NAB does;
    the highest threshold reaching the best raw score is kept. All thresholds
    are evaluated in one sorted pass, ``O(n log n)`` for ``n`` rows.

    Parameters
    ----------
    series : Mapping[str, LabeledSeries]
        The corpus, keyed by file name.
    scores : Mapping[str, array_like]
        One score per row for every file in ``series`` (same keys). NaN never detects.
    profiles : Sequence[CostProfile]
        Profiles to report, each with its own best threshold.
    """
    corpus = _Corpus.build(series, scores)
    sweep = _Sweep.build(corpus)
    return NabReport(tuple(_evaluate(corpus, p, sweep.best_threshold(p)) for p in profiles))


def _scaled_sigmoid(x: FloatArray) -> FloatArray:
    """NAB's ``g(x) = 2 / (1 + exp(5x)) - 1``, fixed at -1 for ``x >= 3``."""
    capped = np.minimum(x, _SIGMOID_CUTOFF)
    return np.where(x >= _SIGMOID_CUTOFF, -1.0, 2.0 / (1.0 + np.exp(5.0 * capped)) - 1.0)


_MAX_REWARD = 2.0 / (1.0 + math.exp(-5.0)) - 1.0  # g(-1): a hit on a window's first row


def _row_weights(n_rows: int, ranges: list[tuple[int, int]]) -> tuple[IntArray, FloatArray]:
    """Per row: the window holding it (-1 if none) and its unit reward or cost.

    Inside a window the unit is the TP reward per unit of ``w_tp`` (in ``(0, 1]``);
    outside it is the FP cost per unit of ``w_fp`` (in ``[-1, 0)``).
    """
    window = np.full(n_rows, -1, dtype=np.int64)
    unit = np.full(n_rows, -1.0)  # outside, before any window: full FP cost
    if not ranges:
        return window, unit
    rows = np.arange(n_rows)
    starts, ends = np.array(ranges, dtype=np.int64).T
    widths = ends - starts + 1
    latest = np.searchsorted(starts, rows, side="right") - 1  # last window started by row
    k = np.maximum(latest, 0)
    inside = (latest >= 0) & (rows <= ends[k])
    after = (latest >= 0) & ~inside  # window k is the previous window
    window[inside] = latest[inside]
    unit[inside] = _scaled_sigmoid(-(ends[k] - rows + 1) / widths[k])[inside] / _MAX_REWARD
    with np.errstate(divide="ignore", invalid="ignore"):  # 1-row windows: d/0 = inf
        past = (rows - ends[k]) / (widths[k] - 1)
    unit[after] = _scaled_sigmoid(past[after])
    return window, unit


@dataclass(frozen=True)
class _Corpus:
    """Scored rows of all files concatenated, with per-row window and unit weight.

    Window ids are global and increase with row order, so within a window an
    earlier row has both a smaller position and a larger reward.
    """

    scores: FloatArray
    window: IntArray
    unit: FloatArray
    n_windows: int  # windows ending after probation: the ones that count

    @classmethod
    def build(cls, series: Mapping[str, LabeledSeries], scores: Mapping[str, npt.ArrayLike]) -> _Corpus:
        if set(series) != set(scores):
            raise ValueError(f"series and scores name different files: {sorted(set(series) ^ set(scores))}")
        kept_scores: list[FloatArray] = [np.empty(0)]  # seeded so empty corpora concatenate
        kept_windows: list[IntArray] = [np.empty(0, dtype=np.int64)]
        kept_units: list[FloatArray] = [np.empty(0)]
        window_offset = n_windows = 0
        for name, labeled in series.items():
            values = np.asarray(scores[name], dtype=np.float64)
            n_rows = len(labeled.timestamps)
            if values.shape != (n_rows,):
                raise ValueError(f"{name}: {values.shape} scores for {n_rows} rows")
            ranges = window_ranges(labeled)
            window, unit = _row_weights(n_rows, ranges)
            probation = probation_length(n_rows)
            keep = (np.arange(n_rows) >= probation) & ~np.isnan(values)
            window = np.where(window >= 0, window + window_offset, -1)
            kept_scores.append(values[keep])
            kept_windows.append(window[keep])
            kept_units.append(unit[keep])
            window_offset += len(ranges)
            n_windows += sum(end >= probation for _, end in ranges)
        return cls(
            np.concatenate(kept_scores),
            np.concatenate(kept_windows),
            np.concatenate(kept_units),
            n_windows,
        )


def _evaluate(corpus: _Corpus, profile: CostProfile, threshold: float) -> ProfileResult:
    """Score the prepared corpus at one threshold."""
    hit = corpus.scores >= threshold
    in_window = corpus.window >= 0
    window_hit = hit & in_window
    false_pos = hit & ~in_window
    # Rows are in corpus order, so the first hit of each window is its earliest.
    hit_windows, first = np.unique(corpus.window[window_hit], return_index=True)
    tp = len(hit_windows)
    fn = corpus.n_windows - tp
    raw = (
        profile.tp * float(corpus.unit[window_hit][first].sum())
        - profile.fn * fn
        + profile.fp * float(corpus.unit[false_pos].sum())
    )
    return ProfileResult(
        profile=profile,
        threshold=threshold,
        raw=raw,
        raw_null=-profile.fn * corpus.n_windows,
        raw_perfect=profile.tp * corpus.n_windows,
        tp=tp,
        fn=fn,
        fp=int(false_pos.sum()),
    )


@dataclass(frozen=True)
class _Sweep:
    """Rows in descending score order with the profile-free parts of each row's
    change to the raw score when the threshold drops to include it.

    A false positive changes the raw score by ``w_fp * unit``. A window row only
    matters if it is the earliest row of its window detected so far: it then
    raises the window's value from ``-w_fn`` (first hit) or from the previous
    earliest hit's reward, i.e. by ``w_tp * gain + w_fn * first``.
    """

    scores: FloatArray  # descending
    in_window: BoolArray
    unit: FloatArray
    gain: FloatArray
    first: BoolArray

    @classmethod
    def build(cls, corpus: _Corpus) -> _Sweep:
        n_rows = len(corpus.scores)
        order = np.argsort(-corpus.scores, kind="stable")
        window = corpus.window[order]
        # Window rows grouped by window, keeping activation order inside each group.
        members = np.flatnonzero(window >= 0)
        members = members[np.argsort(window[members], kind="stable")]
        group = window[members]
        row = order[members]
        # Segmented running minimum of the row: a running maximum of
        # group * stride - row never crosses groups, since stride > any row.
        stride = n_rows + 1
        earliest = group * stride - np.maximum.accumulate(group * stride - row)
        best = corpus.unit[earliest]
        first = np.ones(len(members), dtype=bool)
        first[1:] = group[1:] != group[:-1]
        previous = np.concatenate(([0.0], best[:-1]))
        previous[first] = 0.0

        gain = np.zeros(n_rows)
        gain[members] = best - previous
        first_hit = np.zeros(n_rows, dtype=bool)
        first_hit[members] = first
        return cls(
            scores=corpus.scores[order],
            in_window=window >= 0,
            unit=corpus.unit[order],
            gain=gain,
            first=first_hit,
        )

    def best_threshold(self, profile: CostProfile) -> float:
        """Highest threshold reaching the maximum raw score ("detect nothing" = inf)."""
        delta = np.where(
            self.in_window, profile.tp * self.gain + profile.fn * self.first, profile.fp * self.unit
        )
        # A threshold takes in every row of its value: evaluate at the end of each
        # run. Raw scores are relative to "detect nothing"; the offset is constant.
        run_end = np.append(self.scores[1:] != self.scores[:-1], True)[: len(self.scores)]
        thresholds = np.concatenate(([math.inf], self.scores[run_end]))
        raws = np.concatenate(([0.0], np.cumsum(delta)[run_end]))
        return float(thresholds[int(np.argmax(raws))])
