"""Offline replay of one device's readings: scores, alerts, tiers and open warnings per row, no I/O.

The same detector and the same alerting policy as the live pipeline run over
a recorded table, row by row in input order (files may repeat timestamps):
each reading is scored against what came before, then learned. The alerting
policy is passed in (:class:`AlertPolicy`): the command line wraps the
pipeline's own assessment, so an offline ``alert`` column is what the
pipeline would have emitted, with its cool-down and hysteresis, and
``active`` is the warning state an operator would have seen.

>>> from datetime import datetime, timedelta
>>> from detectors.ensemble import PerMetricDevice, SeriesModel
>>> class Tier4Above(AlertPolicy):
...     def observe(self, at, score, values):
...         return PolicyStep(alert=score.surprise >= 4, tier=4 if score.surprise >= 4 else 0)
>>> stamps = [datetime(2024, 1, 1) + timedelta(minutes=i) for i in range(400)]
>>> level = np.array([1.0 + 0.01 * (i % 5) for i in range(400)])
>>> level[300] = 9.0
>>> result = replay(stamps, {"level": level}, PerMetricDevice(SeriesModel(warmup=20)), Tier4Above())
>>> int(result.alert[:300].sum()), bool(result.alert[300]), int(result.tier[300])
(0, True, 4)
>>> int(result.active[300]), int(result.active[:300].sum())
(1, 0)
>>> bool(result.anomaly_score[300] > 0.5 > result.anomaly_score[:300].max())
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from detectors.base import DeviceDetector, Score

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PolicyStep:
    """What the alerting policy did after one reading.

    Attributes
    ----------
    alert : bool
        True when the live pipeline would emit a warning (opened or escalated) now.
    tier : int
        Tier of the warning active after this reading: 0 none, 4 = IV ... 1 = I.
    warned : bool
        True while the device's hazard has an open warning after this reading: the next
        readings are learned as the worker learns them then (a held model learns nothing).
    """

    alert: bool
    tier: int
    warned: bool = False


class AlertPolicy(Protocol):
    """Turns the stream of scores of one device into alerts and tiers."""

    def observe(self, at: datetime, score: Score, values: Mapping[str, float]) -> PolicyStep:
        """Fold one score in (in event order) and say what is emitted.

        ``values`` are the row's readings by metric (NaN where missing), the plain values
        the score was given: a policy that grades a reading's magnitude, as the live
        assessment grades a gauge's rise or a gas reading against its lines, needs them.
        """
        ...


@dataclass(frozen=True)
class ReplayResult:
    """Per-row outputs of a replay, in input order.

    Attributes
    ----------
    anomaly_score : FloatArray
        :attr:`~detectors.base.Score.risk` in [0, 1); 0 while warming up.
    alert : IntArray
        1 where the policy emitted a warning.
    tier : IntArray
        Active tier after the row (0 none, 4 = IV ... 1 = I).
    """

    anomaly_score: FloatArray
    alert: IntArray
    tier: IntArray

    @property
    def active(self) -> IntArray:
        """1 while a warning is open after the row: the policy's own warning state, read off ``tier``.

        A tier is reported exactly while a warning is open (0 otherwise), so
        this is that state, not a second rule that could disagree with it.
        """
        return (self.tier > 0).astype(np.int64)


def replay(
    timestamps: Sequence[datetime],
    metrics: Mapping[str, FloatArray],
    detector: DeviceDetector,
    policy: AlertPolicy,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 5_000,
    train_rows: int = 0,
) -> ReplayResult:
    """Score then learn every row, feeding each score after the first ``train_rows`` to ``policy``.

    A row is learned as the worker learns a reading: told whether the policy had the
    device's hazard warned after the row before (:attr:`PolicyStep.warned`).

    Parameters
    ----------
    timestamps : Sequence[datetime]
        Event time of each row.
    metrics : Mapping[str, FloatArray]
        One array per metric, as long as ``timestamps``; NaN is a missing value.
    detector : DeviceDetector
        A fresh model of the device.
    policy : AlertPolicy
        A fresh alerting policy.
    progress : Callable[[int], None], optional
        Called with the number of rows done every ``progress_every`` rows and at the end.
    train_rows : int
        Rows learned (and scored) without warning, for protocols whose first
        rows are a training prefix: the policy does not see them, so no
        warning is opened there and none carries over (their alert and tier are 0).

    Raises
    ------
    ValueError
        If a metric column's length differs from the timestamps'.
    """
    n_rows = len(timestamps)
    for name, column in metrics.items():
        if len(column) != n_rows:
            raise ValueError(f"metric {name!r} has {len(column)} values for {n_rows} timestamps")
    names = list(metrics)
    columns = [np.asarray(metrics[name], dtype=np.float64).tolist() for name in names]
    anomaly_score = np.zeros(n_rows)
    alert = np.zeros(n_rows, dtype=np.int64)
    tier = np.zeros(n_rows, dtype=np.int64)
    warned = False
    for row, at in enumerate(timestamps):
        reading = {name: column[row] for name, column in zip(names, columns, strict=True)}
        score = detector.score_one(reading, at)
        detector.learn_one(reading, at, warned=warned)
        anomaly_score[row] = score.risk
        if row >= train_rows:
            step = policy.observe(at, score, reading)
            alert[row] = step.alert
            tier[row] = step.tier
            warned = step.warned
        if progress is not None and (row + 1) % progress_every == 0:
            progress(row + 1)
    if progress is not None:
        progress(n_rows)
    return ReplayResult(anomaly_score, alert, tier)
