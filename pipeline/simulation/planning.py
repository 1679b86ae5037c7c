"""Plan a drill: spread incidents and decoys over communities and time, each graded by domain rules.

Intensities are drawn from plausible ranges, and the expected tier follows
from the intensity by :func:`expected_tier` — operators' grading, not the
pipeline's: a gas leak at 25 %LEL is serious (II), a 0.4 m rise of a
drainage channel is general (IV).

>>> expected_tier(IncidentKind.GAS_LEAK, 25.0)
<Tier.II: 2>
>>> plan = plan_scenario("doc", communities=12, duration=timedelta(hours=6), seed=3)
>>> len(plan.incidents), len(plan.decoys)
(6, 4)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from pipeline.simulation.scenario import DecoyKind, DecoySpec, IncidentKind, IncidentSpec, Scenario
from schemas.hazard import Tier

#: Intensity at or above which each tier applies, most serious first (units: INTENSITY_UNITS).
#: Flood: rise of a drainage channel (0.6 m floods basements, 1 m ground floors).
#: Fire: smoke obscuration at the nearest detector (alarm ~3 %obs/m, heavy smoke 10+).
#: Gas: CH4 detectors alarm at 10 %LEL (low) and 20–25 %LEL (high; evacuate).
#: Air pollution: China's PM2.5 grades (115 moderate, 150 heavy, 250 severe, 500 beyond the index).
#: Power: share of the community without mains power.
#: Public security: reports in a burst.
TIER_GRADES: dict[IncidentKind, tuple[tuple[Tier, float], ...]] = {
    IncidentKind.FLOOD: ((Tier.I, 1.8), (Tier.II, 1.0), (Tier.III, 0.6), (Tier.IV, 0.0)),
    IncidentKind.FIRE: ((Tier.I, 20.0), (Tier.II, 8.0), (Tier.III, 3.0), (Tier.IV, 0.0)),
    IncidentKind.GAS_LEAK: ((Tier.I, 40.0), (Tier.II, 20.0), (Tier.III, 10.0), (Tier.IV, 0.0)),
    IncidentKind.AIR_POLLUTION: ((Tier.I, 500.0), (Tier.II, 250.0), (Tier.III, 150.0), (Tier.IV, 0.0)),
    IncidentKind.POWER_OUTAGE: ((Tier.II, 0.99), (Tier.III, 0.5), (Tier.IV, 0.0)),
    IncidentKind.PUBLIC_SECURITY: ((Tier.II, 40.0), (Tier.III, 15.0), (Tier.IV, 0.0)),
}

#: Plausible intensity range, and (rise to peak, peak to end) in minutes.
INCIDENT_SHAPES: dict[IncidentKind, tuple[tuple[float, float], tuple[int, int]]] = {
    IncidentKind.FLOOD: ((0.8, 1.6), (150, 90)),
    IncidentKind.FIRE: ((6.0, 15.0), (12, 40)),
    IncidentKind.GAS_LEAK: ((18.0, 35.0), (25, 35)),
    IncidentKind.AIR_POLLUTION: ((260.0, 420.0), (120, 120)),
    IncidentKind.POWER_OUTAGE: ((0.6, 1.0), (2, 100)),
    IncidentKind.PUBLIC_SECURITY: ((15.0, 35.0), (15, 45)),
}
#: Communities an air-pollution episode covers (a district).
DISTRICT_SIZE = 3
#: Minutes a decoy lasts.
DECOY_MINUTES: dict[DecoyKind, int] = {
    DecoyKind.FAULTY_SPIKE: 60,
    DecoyKind.STUCK_SENSOR: 120,
    DecoyKind.DEVICE_OFFLINE: 90,
    DecoyKind.FESTIVAL_NIGHT: 180,
    DecoyKind.NEW_DEVICE: 240,
    DecoyKind.DRIFTING_NOISE: 240,
}
#: The decoys a plan draws unless told otherwise: drill-50's. A new device and drifting noise
#: have scenarios of their own (flood-12h, pumping-station-1hz).
PLANNED_DECOYS: tuple[DecoyKind, ...] = (
    DecoyKind.FAULTY_SPIKE,
    DecoyKind.STUCK_SENSOR,
    DecoyKind.DEVICE_OFFLINE,
    DecoyKind.FESTIVAL_NIGHT,
)
#: Quiet time before anything happens, so every model has warmed up.
WARM_UP = timedelta(minutes=60)


def expected_tier(kind: IncidentKind, intensity: float) -> Tier:
    """The tier an incident of this kind and intensity deserves at its peak (:data:`TIER_GRADES`)."""
    return next(tier for tier, floor in TIER_GRADES[kind] if intensity >= floor)


def plan_scenario(
    name: str,
    *,
    communities: int,
    duration: timedelta,
    seed: int,
    per_kind: int = 1,
    incident_kinds: Sequence[IncidentKind] = tuple(IncidentKind),
    decoy_kinds: Sequence[DecoyKind] = PLANNED_DECOYS,
    decoys_per_kind: int = 1,
    tick: timedelta = timedelta(minutes=1),
) -> Scenario:
    """A scenario with ``per_kind`` incidents of each kind and ``decoys_per_kind`` of each decoy.

    Each incident and decoy gets communities of its own (an air-pollution episode
    a district of :data:`DISTRICT_SIZE`), so no two overlap; start times are random
    after :data:`WARM_UP`. Raises ``ValueError`` when there are too few communities
    or the duration is too short.
    """
    rng = random.Random(f"plan:{seed}")
    width = max(3, len(str(communities)))
    pool = [f"c{i:0{width}d}" for i in range(1, communities + 1)]
    rng.shuffle(pool)
    incidents: list[IncidentSpec] = []
    decoys: list[DecoySpec] = []

    def take(n: int) -> list[str]:
        if len(pool) < n:
            raise ValueError(f"{communities} communities are too few for this plan")
        return sorted(pool.pop() for _ in range(n))

    def window(minutes: int) -> tuple[timedelta, timedelta]:
        latest = duration - timedelta(minutes=minutes) - WARM_UP
        if latest < timedelta(0):
            raise ValueError(f"duration {duration} is too short for a {minutes}-minute event")
        start = WARM_UP + timedelta(minutes=rng.randint(0, int(latest.total_seconds() // 60)))
        return start, start + timedelta(minutes=minutes)

    for kind in incident_kinds:
        (low, high), (rise, fall) = INCIDENT_SHAPES[kind]
        for n in range(per_kind):
            intensity = round(rng.uniform(low, high), 2)
            start, end = window(rise + fall)
            incidents.append(
                IncidentSpec(
                    id=f"{kind.value}-{n + 1}",
                    kind=kind,
                    communities=take(DISTRICT_SIZE if kind is IncidentKind.AIR_POLLUTION else 1),
                    start=start,
                    peak=start + timedelta(minutes=rise),
                    end=end,
                    intensity=intensity,
                    expected_tier=expected_tier(kind, intensity),
                )
            )
    for decoy_kind in decoy_kinds:
        for n in range(decoys_per_kind):
            start, end = window(DECOY_MINUTES[decoy_kind])
            decoys.append(
                DecoySpec(
                    id=f"{decoy_kind.value}-{n + 1}",
                    kind=decoy_kind,
                    community=take(1)[0],
                    start=start,
                    end=end,
                )
            )
    return Scenario(
        name=name,
        seed=seed,
        communities=communities,
        duration=duration,
        tick=tick,
        incidents=incidents,
        decoys=decoys,
    )
