"""Residents' reports: the background trickle, incident reports and festival noise complaints.

A community of a few thousand households sends a handful of reports a day,
mostly in waking hours and mostly minor (noise, a broken street light, a
blocked drain). Incidents add reports of their own hazard; a festival
night adds noise complaints. Counts per tick are Poisson draws, so the
stream is bursty the way real reports are.

>>> import random
>>> rng = random.Random(1)
>>> sum(poisson(rng, 2.0) for _ in range(2000)) / 2000   # about 2
1.9975
>>> report = ReportDraft(Hazard.FLOOD, ReporterRole.RESIDENT, 3)
>>> report.description(random.Random(2))
'Water is coming into the basement car park of building 3.'
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from pipeline.simulation.scenario import IncidentKind
from schemas.events import ReporterRole
from schemas.hazard import Hazard

#: Share of background reports per category; severity 1–2, the everyday small stuff.
BACKGROUND_CATEGORIES: tuple[tuple[Hazard, float], ...] = (
    (Hazard.OTHER, 0.42),
    (Hazard.PUBLIC_SECURITY, 0.14),
    (Hazard.PUBLIC_HEALTH, 0.14),
    (Hazard.DEVICE_FAULT, 0.10),
    (Hazard.FLOOD, 0.06),
    (Hazard.POWER_OUTAGE, 0.06),
    (Hazard.FIRE, 0.04),
    (Hazard.GAS_LEAK, 0.04),
)

#: Incident reports per hour at full strength, per affected community.
INCIDENT_REPORTS_PER_HOUR: dict[IncidentKind, float] = {
    IncidentKind.FLOOD: 8.0,
    IncidentKind.FIRE: 30.0,
    IncidentKind.GAS_LEAK: 6.0,
    IncidentKind.POWER_OUTAGE: 20.0,
    IncidentKind.AIR_POLLUTION: 2.0,
}
#: Noise complaints per hour during a festival night.
FESTIVAL_REPORTS_PER_HOUR = 14.0

_TEXTS: dict[Hazard, tuple[str, ...]] = {
    Hazard.FLOOD: (
        "Water is coming into the basement car park of building {b}.",
        "The drain outside building {b} is overflowing, water is ankle deep.",
        "Water in the ground-floor corridor of building {b}, still rising.",
    ),
    Hazard.FIRE: (
        "Smoke coming out of a window on floor {f} of building {b}.",
        "Smell of burning and smoke in the stairwell of building {b}.",
        "Flames seen on the balcony of floor {f}, building {b}.",
    ),
    Hazard.GAS_LEAK: (
        "Strong gas smell in the stairwell of building {b}.",
        "Smell of gas near the kitchen exhaust of building {b}, floor {f}.",
    ),
    Hazard.AIR_POLLUTION: (
        "Air is thick and hazy, hard to breathe outside building {b}.",
        "Heavy smog, children coughing at the playground near building {b}.",
    ),
    Hazard.POWER_OUTAGE: (
        "No electricity in building {b} since a few minutes.",
        "Lift stopped and lights out in building {b}.",
        "Whole block around building {b} is dark.",
    ),
    Hazard.PUBLIC_SECURITY: (
        "A fight in front of building {b}, several people involved.",
        "Group of people breaking car windows near building {b}.",
        "Someone threatening residents at the gate of building {b}.",
    ),
    Hazard.PUBLIC_HEALTH: (
        "Rubbish not collected for days behind building {b}, it smells.",
        "Several neighbours in building {b} have a stomach bug.",
    ),
    Hazard.DEVICE_FAULT: (
        "Street light outside building {b} is broken.",
        "The door access panel of building {b} does not work.",
    ),
    Hazard.OTHER: (
        "Loud music from floor {f} of building {b}.",
        "Car parked across the fire lane at building {b}.",
        "Construction noise outside building {b} before 7 am.",
    ),
}
_FESTIVAL_TEXTS = (
    "Fireworks and loud music near building {b}, cannot sleep.",
    "Crowd singing in the square next to building {b}, very noisy.",
    "Festival stage near building {b} still playing loud music.",
)


@dataclass(frozen=True)
class ReportDraft:
    """What a report says before it gets its ids and times."""

    category: Hazard
    role: ReporterRole
    severity: int
    festival: bool = False

    def description(self, rng: random.Random) -> str:
        """A plausible text for this report, naming a building (and floor) of the community."""
        texts = _FESTIVAL_TEXTS if self.festival else _TEXTS[self.category]
        return rng.choice(texts).format(b=rng.randint(1, 24), f=rng.randint(1, 18))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def waking_factor(local_hour: float) -> float:
    """How much more (or less) people report at this hour than on average over a day."""
    return 1.4 if 7.0 <= local_hour < 23.0 else 0.2


def background_draft(rng: random.Random) -> ReportDraft:
    """One everyday report: a category by :data:`BACKGROUND_CATEGORIES`, severity 1–2."""
    categories, weights = zip(*BACKGROUND_CATEGORIES, strict=True)
    category = rng.choices(categories, weights)[0]
    role = ReporterRole.SOCIAL_ORG if rng.random() < 0.1 else ReporterRole.RESIDENT
    return ReportDraft(category, role, rng.choice((1, 1, 2)))


def incident_draft(rng: random.Random, kind: IncidentKind) -> ReportDraft:
    """One report about a real incident: serious, sometimes from police or grid workers."""
    role = ReporterRole.RESIDENT
    if kind is IncidentKind.PUBLIC_SECURITY and rng.random() < 0.25:
        role = ReporterRole.POLICE
    elif kind is IncidentKind.POWER_OUTAGE and rng.random() < 0.2:
        role = ReporterRole.GRID_WORKER
    return ReportDraft(kind.hazard, role, rng.choice((3, 3, 4, 4, 5)))


def festival_draft(rng: random.Random) -> ReportDraft:
    """A festival-night complaint: noise, sometimes filed as public security, never serious."""
    category = Hazard.PUBLIC_SECURITY if rng.random() < 0.3 else Hazard.OTHER
    return ReportDraft(category, ReporterRole.RESIDENT, rng.choice((1, 2, 2)), festival=True)
