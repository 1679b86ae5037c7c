"""Device health: silent devices, stuck sensors, flat batteries, and faults mistaken for hazards.

A broken device is not a hazard, but it hides hazards: a silent water gauge
cannot warn of a flood. These checks produce :class:`HealthFinding` records
(device, kind, since when, evidence) for the operations team and let the
assessment discount a lone spike from a suspected faulty sensor.

Everything is driven by the times passed in (``at`` / ``now``): nothing
reads a clock, so tests move time by hand.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class HealthFindingKind(StrEnum):
    """What is wrong with a device."""

    SILENT = "silent"
    STUCK = "stuck"
    BATTERY_LOW = "battery_low"
    BATTERY_DRAINING = "battery_draining"
    SUSPECTED_FAULT = "suspected_fault"


@dataclass(frozen=True, slots=True)
class HealthFinding:
    """One health problem of one device."""

    device_id: str
    kind: HealthFindingKind
    since: datetime
    """When the problem started (last heartbeat, first stuck reading, …)."""
    evidence: str
    """One sentence for operators saying what was seen."""


class HeartbeatMonitor:
    """Which devices have missed ``missed_beats`` heartbeats in a row.

    Each device's expected interval is the ``heartbeat_interval_s`` of its
    latest telemetry, so a device that reports hourly is not called silent
    after a minute.

    >>> t0 = datetime(2026, 1, 1)
    >>> hb = HeartbeatMonitor(missed_beats=3)
    >>> hb.beat("wl-1", t0, interval_s=60)
    >>> hb.silent(t0 + timedelta(seconds=179))
    []
    >>> [f.evidence for f in hb.silent(t0 + timedelta(seconds=181))]
    ['no heartbeat for 181 s (expected every 60 s; 3 missed)']
    """

    def __init__(self, missed_beats: int = 3) -> None:
        self.missed_beats = missed_beats
        self._last: dict[str, tuple[datetime, float]] = {}

    def beat(self, device_id: str, at: datetime, interval_s: float) -> None:
        """Record a heartbeat (late, out-of-order beats never move the last one back)."""
        last = self._last.get(device_id)
        if last is None or at >= last[0]:
            self._last[device_id] = (at, interval_s)

    @property
    def last_beats(self) -> Mapping[str, tuple[datetime, float]]:
        """``{device: (last heartbeat, expected interval in s)}``, for a checkpoint (read only)."""
        return self._last

    def forget(self, device_id: str) -> None:
        """Stop watching a decommissioned device."""
        self._last.pop(device_id, None)

    def silent(self, now: datetime) -> list[HealthFinding]:
        """Devices silent for more than ``missed_beats`` intervals at ``now``."""
        found = []
        for device_id, (last, interval_s) in self._last.items():
            quiet_s = (now - last).total_seconds()
            if quiet_s > self.missed_beats * interval_s:
                found.append(
                    HealthFinding(
                        device_id,
                        HealthFindingKind.SILENT,
                        last,
                        f"no heartbeat for {quiet_s:.0f} s (expected every {interval_s:g} s; "
                        f"{int(quiet_s // interval_s)} missed)",
                    )
                )
        return found


_STAY_PRIOR = 5.0
"""Pseudo-steps of the stay rate's shrinkage toward the flat rate."""


class StuckSensor:
    """A sensor repeating (nearly) the same value far longer than its series ever does.

    The detector learns, as a two-state Markov chain, how often a reading
    repeats the previous one (``flat_rate``) and how often a repeat is followed
    by another (``stay_rate``). A run of ``n`` equal readings then has
    probability ``flat_rate · stay_rate ** (n - 2)`` on this series: a quantised,
    often-steady gauge may sit still for an hour, a noisy thermometer not for
    ten readings. The run is reported as stuck when it is at least
    ``min_readings`` long, lasted ``min_duration`` and that probability is below
    ``p_stuck``. A run is learned when it ends, and a run judged stuck is not
    learned at all, so a stuck sensor does not teach the model that sitting
    still is normal.

    A series that has never varied (a smoke sensor reading 0) cannot be told
    from a stuck one by its values: nothing is reported until ``min_changes``
    changes have been seen.

    Parameters
    ----------
    device_id
        The device the findings name.
    tolerance
        Readings whose range stays within this (series unit) count as the same.
    min_readings, min_duration
        The shortest run that can ever be reported.
    p_stuck
        The run's probability below which it is reported.
    alpha
        Fading factor of the two rates.
    min_changes
        Changes of value seen before anything is reported.

    >>> t0 = datetime(2026, 1, 1)
    >>> s = StuckSensor("t-1", min_readings=5, min_duration=timedelta(0), min_changes=20)
    >>> for i in range(50):
    ...     _ = s.observe(20.0 + (i % 5) * 0.1, t0 + timedelta(minutes=i))
    >>> found = [s.observe(21.5, t0 + timedelta(minutes=50 + i)) for i in range(8)]
    >>> found[5] is None, found[6].evidence
    (True, 'value 21.5 repeated 7 times over 6 min (p=3.6e-05 on this series)')
    """

    def __init__(
        self,
        device_id: str,
        *,
        tolerance: float = 0.0,
        min_readings: int = 10,
        min_duration: timedelta = timedelta(minutes=10),
        p_stuck: float = 1e-4,
        alpha: float = 0.02,
        min_changes: int = 30,
    ) -> None:
        self.device_id = device_id
        self.tolerance = tolerance
        self.min_readings = min_readings
        self.min_duration = min_duration
        self.p_stuck = p_stuck
        self.alpha = alpha
        self.min_changes = min_changes
        self.flat_rate = 0.5
        self._stay_weight = self._stay_sum = 0.0
        self._changes = 0
        self._run_start: datetime | None = None
        self._run_low = self._run_high = math.nan
        self._run_length = 0

    @property
    def stay_rate(self) -> float:
        """P(repeat | previous step a repeat): faded counts shrunk toward ``flat_rate``.

        A series that never repeats has nothing to learn it from; the shrinkage
        (``_STAY_PRIOR`` pseudo-steps) then assumes repeats are independent.
        """
        return (self._stay_sum + _STAY_PRIOR * self.flat_rate) / (self._stay_weight + _STAY_PRIOR)

    def run_p_value(self) -> float:
        """Probability of the current run on this series (1 for a single reading)."""
        if self._run_length < 2:
            return 1.0
        return self.flat_rate * self.stay_rate ** (self._run_length - 2)

    def _learn_run(self) -> None:
        """Learn the run that just ended and the change that ended it, in O(1).

        A run judged stuck is a fault, not behaviour: only its end is learned.
        """
        repeats = 0 if self.run_p_value() < self.p_stuck else self._run_length - 1
        keep = (1 - self.alpha) ** repeats
        self.flat_rate = 1 - (1 - self.flat_rate) * keep
        stays = max(repeats - 1, 0)  # repeats that followed a repeat
        keep_stays = (1 - self.alpha) ** stays
        self._stay_weight = self._stay_weight * keep_stays + (1 - keep_stays) / self.alpha
        self._stay_sum = self._stay_sum * keep_stays + (1 - keep_stays) / self.alpha
        if self._run_length >= 2:  # the change followed a repeat
            self._stay_weight = (1 - self.alpha) * self._stay_weight + 1.0
            self._stay_sum *= 1 - self.alpha
        self.flat_rate *= 1 - self.alpha
        self._changes += 1

    def observe(self, value: float, at: datetime) -> HealthFinding | None:
        """Fold in one reading; a finding while the sensor looks stuck, else None.

        The run in progress is scored with the rates learned before it began
        and learned when it ends. A non-finite value ends the run (a gap is not
        a repeat) and is not learned.
        """
        if not math.isfinite(value):
            self._run_start, self._run_length = None, 0
            return None
        low, high = min(self._run_low, value), max(self._run_high, value)
        if self._run_start is not None and high - low <= self.tolerance:
            self._run_low, self._run_high = low, high
            self._run_length += 1
        else:
            if self._run_start is not None:
                self._learn_run()
            self._run_start, self._run_low, self._run_high, self._run_length = at, value, value, 1
        return self._finding(value, at)

    def _finding(self, value: float, at: datetime) -> HealthFinding | None:
        assert self._run_start is not None
        lasted = at - self._run_start
        p = self.run_p_value()
        if (
            self._changes < self.min_changes
            or self._run_length < self.min_readings
            or lasted < self.min_duration
            or p >= self.p_stuck
        ):
            return None
        return HealthFinding(
            self.device_id,
            HealthFindingKind.STUCK,
            self._run_start,
            f"value {value:g} repeated {self._run_length} times over "
            f"{lasted.total_seconds() / 60:.0f} min (p={p:.2g} on this series)",
        )


class BatteryMonitor:
    """Battery level below a threshold, or projected to run out within a horizon.

    The drain rate is an exponentially time-weighted least-squares slope of
    level against time (``tau`` weights the last day or so), refitted in O(1)
    per telemetry: a 1 %/day drain is visible even from integer percentages.
    A rise of more than ``recharge_pct`` means a new battery or a recharge and
    restarts the fit.

    >>> t0 = datetime(2026, 1, 1)
    >>> b = BatteryMonitor("wl-1", horizon=timedelta(days=3))
    >>> for h in range(24):
    ...     found = b.observe(60.0 - h, t0 + timedelta(hours=h))   # 1 %/hour
    >>> found[0].kind.value, found[0].evidence
    ('battery_draining', 'battery 37 % draining 1 %/h: empty in about 37 h')
    """

    def __init__(
        self,
        device_id: str,
        *,
        low_pct: float = 20.0,
        horizon: timedelta = timedelta(days=2),
        tau: timedelta = timedelta(days=1),
        min_span: timedelta = timedelta(hours=2),
        recharge_pct: float = 5.0,
    ) -> None:
        self.device_id = device_id
        self.low_pct = low_pct
        self.horizon_h = horizon.total_seconds() / 3600
        self.tau_h = tau.total_seconds() / 3600
        self.min_span_h = min_span.total_seconds() / 3600
        self.recharge_pct = recharge_pct
        self._restart(None)

    def _restart(self, at: datetime | None) -> None:
        # Weighted sums of 1, t, y, t², t·y with t in hours relative to the last reading.
        self._w = self._t = self._y = self._tt = self._ty = 0.0
        self._last: tuple[datetime, float] | None = None
        self._first = at
        self._low_since: datetime | None = None

    def drain_pct_per_h(self) -> float | None:
        """The fitted drain rate (positive while discharging), None before ``min_span`` of data."""
        if self._first is None or self._last is None:
            return None
        if (self._last[0] - self._first).total_seconds() / 3600 < self.min_span_h:
            return None
        det = self._w * self._tt - self._t * self._t
        if det <= 0:
            return None
        return -(self._w * self._ty - self._t * self._y) / det

    def _fold(self, level: float, at: datetime) -> None:
        shift = 0.0 if self._last is None else (at - self._last[0]).total_seconds() / 3600
        decay = math.exp(-shift / self.tau_h)
        # Move the origin to ``at`` (t → t - shift), then fade and add the new point at t = 0.
        self._tt = decay * (self._tt - 2 * shift * self._t + shift * shift * self._w)
        self._ty = decay * (self._ty - shift * self._y)
        self._t = decay * (self._t - shift * self._w)
        self._y = decay * self._y + level
        self._w = decay * self._w + 1.0

    def observe(self, level_pct: float, at: datetime) -> list[HealthFinding]:
        """Fold in one battery reading (out-of-order ones are ignored); current findings."""
        if self._last is not None and at <= self._last[0]:
            return []
        if self._last is None or level_pct > self._last[1] + self.recharge_pct:
            self._restart(at)
        self._fold(level_pct, at)
        self._last = (at, level_pct)
        found = []
        if level_pct < self.low_pct:
            self._low_since = self._low_since or at
            found.append(
                HealthFinding(
                    self.device_id,
                    HealthFindingKind.BATTERY_LOW,
                    self._low_since,
                    f"battery {level_pct:g} % below {self.low_pct:g} %",
                )
            )
        else:
            self._low_since = None
        drain = self.drain_pct_per_h()
        if drain is not None and drain > 0 and level_pct / drain < self.horizon_h:
            found.append(
                HealthFinding(
                    self.device_id,
                    HealthFindingKind.BATTERY_DRAINING,
                    at,
                    f"battery {level_pct:g} % draining {drain:.2g} %/h: "
                    f"empty in about {level_pct / drain:.0f} h",
                )
            )
        return found


@dataclass(frozen=True, slots=True)
class FaultJudgement:
    """When a lone spike is called a fault rather than a hazard.

    Parameters
    ----------
    alarm_p
        A sensor scoring below this p-value is spiking.
    calm_p
        A neighbour scoring at or above this p-value is calm.
    min_neighbours
        Fewer neighbours of the same type cannot outvote a sensor.
    calm_fraction
        Share of neighbours that must be calm.
    """

    alarm_p: float = 1e-4
    calm_p: float = 0.05
    min_neighbours: int = 2
    calm_fraction: float = 0.8

    def suspected_faults(self, p_values: Mapping[str, float], at: datetime) -> list[HealthFinding]:
        """Which sensors of one community and sensor type are probably faulty, not seeing a hazard.

        ``p_values`` maps each device to its detector p-value at ``at``. A real
        gas leak or flood reaches several sensors of a community; a single
        sensor spiking while its neighbours stay calm is more likely broken.
        A lone local hazard (a fire in one room) looks the same, so this
        judgement lowers confidence in the assessment; it must not discard the
        reading.

        >>> judge, at = FaultJudgement(), datetime(2026, 1, 1)
        >>> [f.device_id for f in judge.suspected_faults({"a": 1e-7, "b": 0.4, "c": 0.7}, at)]
        ['a']
        >>> judge.suspected_faults({"a": 1e-7, "b": 1e-5, "c": 0.7}, at)   # two agree: a hazard
        []
        """
        found = []
        for device_id, p in p_values.items():
            if p >= self.alarm_p:
                continue
            neighbours = [q for other, q in p_values.items() if other != device_id]
            calm = sum(q >= self.calm_p for q in neighbours)
            if len(neighbours) >= self.min_neighbours and calm >= self.calm_fraction * len(neighbours):
                found.append(
                    HealthFinding(
                        device_id,
                        HealthFindingKind.SUSPECTED_FAULT,
                        at,
                        f"spiking (p={p:.2g}) while {calm} of {len(neighbours)} neighbours of the same "
                        f"type are calm (median p={statistics.median(neighbours):.2g})",
                    )
                )
        return found
