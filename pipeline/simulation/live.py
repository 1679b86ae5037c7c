"""An endless wall-clock feed for the demo: a few communities, one incident every few minutes.

The caller starts it at "now" and publishes each tick's batches when the
wall clock reaches the tick (``start + offset_s``). Incidents rotate over
the sensor-driven kinds and the communities; each is announced in the tick
it starts, so the demo can say what is coming.

>>> from datetime import UTC, datetime
>>> feed = live_feed(communities=2, seed=7, tick=timedelta(seconds=1),
...                  incident_every=timedelta(minutes=2), start=datetime(2026, 6, 1, tzinfo=UTC))
>>> ticks = [next(feed) for _ in range(76)]
>>> [(t.offset_s, i.kind.value, i.communities) for t in ticks for i in t.new_incidents]
[(75.0, 'flood', ['demo-c001'])]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.simulation.generator import Batch, CommunitySimulator, TickContext
from pipeline.simulation.planning import expected_tier
from pipeline.simulation.scenario import IncidentKind, IncidentSpec

#: The incidents the demo rotates through, with the intensity each gets.
DEMO_INCIDENTS: tuple[tuple[IncidentKind, float], ...] = (
    (IncidentKind.FLOOD, 1.2),
    (IncidentKind.GAS_LEAK, 25.0),
    (IncidentKind.FIRE, 10.0),
    (IncidentKind.AIR_POLLUTION, 300.0),
    (IncidentKind.POWER_OUTAGE, 1.0),
)
#: Quiet time before the first incident: the detectors' warm-up (30 readings), the held
#: baseline's calibration after it (:data:`detectors.hold.CALIBRATION_READINGS`, 30), and a margin;
#: a flood that starts before the gauges are calibrated is silent until it is past its warning line.
DEMO_WARM_UP_TICKS = 75


@dataclass(frozen=True)
class LiveTick:
    """One tick of the live feed: its batches, and the incidents that start now."""

    offset_s: float
    batches: list[Batch]
    new_incidents: list[IncidentSpec]


def demo_incident(number: int, communities: list[str], first: timedelta, every: timedelta) -> IncidentSpec:
    """The ``number``-th (from 0) demo incident: kind and community rotate; it lasts half the period."""
    kind, intensity = DEMO_INCIDENTS[number % len(DEMO_INCIDENTS)]
    start = first + every * number
    return IncidentSpec(
        id=f"demo-{number + 1}",
        kind=kind,
        communities=[communities[number % len(communities)]],
        start=start,
        peak=start + every / 6,
        end=start + every / 2,
        intensity=intensity,
        expected_tier=expected_tier(kind, intensity),
    )


def demo_communities(communities: int, prefix: str = "demo-c") -> list[str]:
    """The ids of the demo's ``communities``: ``demo-c001``, ``demo-c002``, …"""
    return [f"{prefix}{i:03d}" for i in range(1, communities + 1)]


def live_feed(
    *,
    communities: int,
    seed: int,
    tick: timedelta,
    incident_every: timedelta,
    start: datetime,
    prefix: str = "demo-c",
    utc_offset_hours: float = 8.0,
) -> Iterator[LiveTick]:
    """Tick after tick, forever: every community's batches, incidents scripted every ``incident_every``."""
    names = demo_communities(communities, prefix)
    tick_s = tick.total_seconds()
    simulators = [
        CommunitySimulator(name, seed, tick_s=tick_s, heartbeat_s=tick_s * 30, reports_per_day=200.0)
        for name in names
    ]
    by_name = dict(zip(names, simulators, strict=True))
    first = tick * DEMO_WARM_UP_TICKS
    upcoming = demo_incident(0, names, first, incident_every)
    number = 0
    for index in itertools.count():
        offset = index * tick_s
        started: list[IncidentSpec] = []
        while upcoming.start.total_seconds() <= offset:
            for name in upcoming.communities:
                simulator = by_name[name]
                simulator.incidents[:] = [i for i in simulator.incidents if i.end.total_seconds() >= offset]
                simulator.incidents.append(upcoming)
            started.append(upcoming)
            number += 1
            upcoming = demo_incident(number, names, first, incident_every)
        context = TickContext.build(index, start, offset, utc_offset_hours)
        batches = [batch for simulator in simulators for batch in simulator.step(context)]
        yield LiveTick(offset, batches, started)
