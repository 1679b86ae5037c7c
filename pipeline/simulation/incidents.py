"""What an incident or a decoy does to a community's devices and report stream.

An incident's strength follows an envelope over its life: 0 at ``start``,
1 at ``peak``, back to 0 at ``end`` (water rises over hours and recedes;
smoke builds in minutes). A power outage and a public-security burst hold
full strength from peak to end instead.

Physical magnitudes per kind (``intensity`` is the value at the peak):

* flood — both water gauges rise by ``intensity`` m (the second, upstream, by 80 %);
* fire — the nearest smoke detector reaches ``intensity`` %obs/m (a neighbouring one 30 %),
  the nearest temperature sensor rises 4 °C and the CO detector 8 ppm per %obs/m;
* gas leak — the nearest CH4 detector reaches ``intensity`` %LEL (the other 25 %);
* air pollution — PM2.5 climbs to ``intensity`` ug/m3 over every affected community;
* power outage — the share ``intensity`` of mains-powered devices goes silent and the
  mains meters read ~0 V;
* public security — reports only.

>>> envelope_at(IncidentKind.FLOOD, start=0, peak=100, end=300, at=50)
0.5
>>> envelope_at(IncidentKind.POWER_OUTAGE, start=0, peak=60, end=600, at=300)
1.0
>>> envelope_at(IncidentKind.FLOOD, start=0, peak=100, end=300, at=250, plateau_until=200)
0.5

A decoy ``drifting_noise`` adds to its device's reading AR(1) noise of
:data:`DRIFT_NOISE_FLOORS` times the device's noise, correlated over
:data:`DRIFT_CORRELATION_S` (a pumping station's wet well as its pumps cycle), and a
drift growing to :data:`DRIFT_FLOORS` times its noise by the decoy's end (its set
point moved). A ``new_device`` sends nothing before the decoy's start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.simulation.devices import Device
from pipeline.simulation.scenario import DecoyKind, DecoySpec, IncidentKind, IncidentSpec
from schemas.events import SensorType

_HOLDING_KINDS = frozenset({IncidentKind.POWER_OUTAGE, IncidentKind.PUBLIC_SECURITY})
FIRE_HEAT_DEGC_PER_SMOKE = 4.0
FIRE_CO_PPM_PER_SMOKE = 8.0
#: A faulty detector's spikes are evenly spaced in its window, this many of them.
FAULTY_SPIKES = 3
DRIFT_NOISE_FLOORS = 3.0
DRIFT_CORRELATION_S = 60.0
DRIFT_FLOORS = 10.0


def envelope_at(
    kind: IncidentKind,
    *,
    start: float,
    peak: float,
    end: float,
    at: float,
    plateau_until: float | None = None,
) -> float:
    """Strength (0–1) of an incident at time ``at`` (all in seconds from the scenario start);
    with ``plateau_until`` it holds full strength from the peak until then."""
    if at < start or at > end:
        return 0.0
    if at < peak:
        return (at - start) / (peak - start)
    held_until = plateau_until if plateau_until is not None else peak
    if kind in _HOLDING_KINDS or end == held_until or at <= held_until:
        return 1.0
    return (end - at) / (end - held_until)


def drifting_noise_step(previous: float, noise: float, tick_s: float, gauss: float) -> float:
    """The next AR(1) excursion of a ``drifting_noise`` device, from ``previous`` and a N(0, 1) draw."""
    phi = math.exp(-tick_s / DRIFT_CORRELATION_S)
    return phi * previous + math.sqrt(1.0 - phi * phi) * DRIFT_NOISE_FLOORS * noise * gauss


@dataclass(frozen=True)
class SensorEffect:
    """What incidents do to one device's reading at one moment."""

    delta: float = 0.0
    silenced: bool = False


def _affected_by_outage(device: Device, share: float, count: int) -> bool:
    return device.index < math.ceil(share * count - 1e-9)


def incident_effect(
    incident: IncidentSpec, strength: float, device: Device, devices_of_type: int, level: float
) -> SensorEffect:
    """The effect of ``incident`` at ``strength`` on ``device`` whose normal reading is ``level``."""
    kind, size, sensor = incident.kind, incident.intensity, device.sensor_type
    if kind is IncidentKind.FLOOD and sensor is SensorType.WATER_LEVEL:
        return SensorEffect(delta=size * strength * (1.0 if device.index == 0 else 0.8))
    if kind is IncidentKind.FIRE:
        near = 1.0 if device.index == 0 else 0.3
        if sensor is SensorType.SMOKE:
            return SensorEffect(delta=size * strength * near)
        if sensor is SensorType.TEMPERATURE and device.index == 0:
            return SensorEffect(delta=FIRE_HEAT_DEGC_PER_SMOKE * size * strength)
        if sensor is SensorType.GAS_CO:
            return SensorEffect(delta=FIRE_CO_PPM_PER_SMOKE * size * strength)
    if kind is IncidentKind.GAS_LEAK and sensor is SensorType.GAS_CH4:
        return SensorEffect(delta=size * strength * (1.0 if device.index == 0 else 0.25))
    if kind is IncidentKind.AIR_POLLUTION and sensor is SensorType.PM25:
        return SensorEffect(delta=max(0.0, size - level) * strength)
    if kind is IncidentKind.POWER_OUTAGE and _affected_by_outage(device, size, devices_of_type):
        if sensor is SensorType.POWER:
            return SensorEffect(delta=-level * strength)
        if not device.battery_powered and strength >= 0.5:
            return SensorEffect(silenced=True)
    return SensorEffect()


def decoy_silences(decoy: DecoySpec, device: Device) -> bool:
    """True while ``decoy`` keeps ``device`` from sending anything (readings and heartbeats)."""
    return decoy.kind is DecoyKind.DEVICE_OFFLINE and is_decoy_device(decoy, device)


def is_decoy_device(decoy: DecoySpec, device: Device) -> bool:
    """True for the one device a device decoy acts on: the first of its sensor type."""
    return decoy.affected_sensor is device.sensor_type and device.index == 0


def faulty_spike_offsets(decoy: DecoySpec) -> list[float]:
    """When a faulty detector spikes: :data:`FAULTY_SPIKES` evenly spaced moments of its window (s)."""
    start, end = decoy.start.total_seconds(), decoy.end.total_seconds()
    step = (end - start) / (FAULTY_SPIKES + 1)
    return [start + step * (i + 1) for i in range(FAULTY_SPIKES)]
