"""Incidents change what they physically should, where they should; decoys do exactly their trick."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.simulation.generator import generate
from pipeline.simulation.incidents import (
    DRIFT_CORRELATION_S,
    FAULTY_SPIKES,
    drifting_noise_step,
    envelope_at,
)
from pipeline.simulation.scenario import DecoyKind, DecoySpec, IncidentKind, IncidentSpec, Scenario
from schemas.hazard import Tier

START = datetime(2026, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def incident(kind: IncidentKind, intensity: float, **times: timedelta) -> IncidentSpec:
    spec: dict[str, Any] = {"start": 1 * H, "peak": 2 * H, "end": 3 * H, **times}
    return IncidentSpec(
        id="i1", kind=kind, communities=["c001"], intensity=intensity, expected_tier=Tier.II, **spec
    )


def run(
    incidents: list[IncidentSpec] | None = None, decoys: list[DecoySpec] | None = None
) -> list[dict[str, Any]]:
    scenario = Scenario(
        name="t", communities=2, duration=3 * H, incidents=incidents or [], decoys=decoys or [], seed=3
    )
    return [dict(e, offset_s=b.offset_s) for b in generate(scenario, START) for e in b.events]


def readings(events: list[dict[str, Any]], device: str) -> dict[float, float]:
    return {e["offset_s"]: e["value"] for e in events if e.get("device_id") == device and "value" in e}


def test_envelope_rises_to_the_peak_and_falls_or_holds() -> None:
    ramp = [envelope_at(IncidentKind.GAS_LEAK, start=10, peak=20, end=40, at=t) for t in (5, 15, 20, 30, 45)]
    assert ramp == [0.0, 0.5, 1.0, 0.5, 0.0]
    assert envelope_at(IncidentKind.PUBLIC_SECURITY, start=10, peak=20, end=40, at=30) == 1.0


def test_a_flood_raises_both_gauges_by_about_its_intensity_at_the_peak_in_its_community_only() -> None:
    events = run([incident(IncidentKind.FLOOD, 1.2)])
    for device, share in (("c001.wl-1", 1.0), ("c001.wl-2", 0.8)):
        series = readings(events, device)
        assert series[2 * 3600] - series[3600] == pytest.approx(1.2 * share, abs=0.08)
    calm = readings(events, "c002.wl-1")
    assert max(calm.values()) - min(calm.values()) < 0.1
    floods = [e for e in events if e.get("category") == "flood" and e["community_id"] == "c001"]
    assert floods and all(e["severity"] >= 3 for e in floods)


def test_a_gas_leak_reaches_its_lel_at_the_nearest_detector_and_a_quarter_at_the_other() -> None:
    events = run([incident(IncidentKind.GAS_LEAK, 25.0)])
    assert readings(events, "c001.ch4-1")[7200] == pytest.approx(25.0, abs=1.0)
    assert readings(events, "c001.ch4-2")[7200] == pytest.approx(6.25, abs=1.0)


def test_a_fire_brings_smoke_heat_and_co_and_reports() -> None:
    events = run([incident(IncidentKind.FIRE, 12.0, peak=70 * M, end=2 * H)])
    at_peak = 70 * 60
    assert readings(events, "c001.sm-1")[at_peak] == pytest.approx(12.0, abs=0.5)
    assert readings(events, "c001.tp-1")[at_peak] - readings(events, "c001.tp-1")[3600] > 40
    assert readings(events, "c001.co-1")[at_peak] > 80
    assert any(e.get("category") == "fire" for e in events)


def test_air_pollution_brings_pm25_to_its_peak_value() -> None:
    events = run([incident(IncidentKind.AIR_POLLUTION, 320.0)])
    assert readings(events, "c001.pm-1")[7200] == pytest.approx(320.0, abs=10.0)


def test_a_power_outage_silences_mains_devices_and_drops_the_voltage() -> None:
    events = run([incident(IncidentKind.POWER_OUTAGE, 1.0, peak=62 * M, end=2 * H)])
    during = [e for e in events if e["community_id"] == "c001" and 63 * 60 <= e["offset_s"] < 2 * 3600]
    silent = {"c001.tp-1", "c001.tp-2", "c001.pm-1", "c001.vb-1"}
    assert not silent & {e.get("device_id") for e in during}
    assert max(readings(during, "c001.pw-1").values()) < 5.0
    meters = [e for e in during if e["kind"] == "device_telemetry" and e["device_id"].startswith("c001.pw")]
    assert meters and all(e["status"] == "degraded" for e in meters)
    after = [e for e in events if e.get("device_id") == "c001.tp-1" and e["offset_s"] > 2 * 3600]
    assert after, "power comes back at the end"


def test_a_public_security_burst_sends_about_its_intensity_in_reports() -> None:
    events = run([incident(IncidentKind.PUBLIC_SECURITY, 30.0)])
    burst = [e for e in events if e.get("category") == "public_security" and e.get("severity", 0) >= 3]
    assert 15 <= len(burst) <= 45
    assert {e["reporter_role"] for e in burst} >= {"resident"}


def decoy(kind: DecoyKind, **fields: Any) -> DecoySpec:
    return DecoySpec(id="d1", kind=kind, community="c001", start=1 * H, end=2 * H, **fields)


def test_a_faulty_detector_spikes_exactly_a_few_times_while_its_neighbour_stays_calm() -> None:
    events = run(decoys=[decoy(DecoyKind.FAULTY_SPIKE, sensor_type="gas_ch4")])
    spikes = [v for v in readings(events, "c001.ch4-1").values() if v > 50]
    assert spikes == [90.0] * FAULTY_SPIKES
    assert max(readings(events, "c001.ch4-2").values()) < 2.0


def test_a_stuck_sensor_repeats_one_value_through_its_window() -> None:
    events = run(decoys=[decoy(DecoyKind.STUCK_SENSOR, sensor_type="water_level")])
    series = readings(events, "c001.wl-1")
    window = {v for t, v in series.items() if 3600 <= t <= 7200}
    assert len(window) == 1
    assert len({v for t, v in series.items() if t < 3600}) > 1


def test_an_offline_device_sends_neither_readings_nor_heartbeats_in_its_window() -> None:
    events = run(decoys=[decoy(DecoyKind.DEVICE_OFFLINE, sensor_type="smoke")])
    times = [e["offset_s"] for e in events if e.get("device_id") == "c001.sm-1"]
    assert not [t for t in times if 3600 <= t <= 7200]
    assert [t for t in times if t > 7200]


def test_a_festival_night_multiplies_low_severity_noise_complaints() -> None:
    quiet_night = Counter(e["community_id"] for e in run() if e["kind"] == "resident_report")
    festival = [e for e in run(decoys=[decoy(DecoyKind.FESTIVAL_NIGHT)]) if e["kind"] == "resident_report"]
    in_c001 = [e for e in festival if e["community_id"] == "c001"]
    assert len(in_c001) >= quiet_night["c001"] + 5
    assert all(e["severity"] <= 2 for e in in_c001)


def test_a_flood_plateau_holds_its_peak_until_plateau_until_then_recedes() -> None:
    flood = incident(IncidentKind.FLOOD, 1.2, peak=90 * M, plateau_until=150 * M, end=170 * M)
    series = readings(run([flood]), "c001.wl-1")
    base = series[3600 - 60]
    assert all(abs(series[m * 60] - base - 1.2) < 0.06 for m in range(90, 151)), "held at the peak"
    assert series[160 * 60] - base == pytest.approx(0.6, abs=0.06), "then recedes over its last 20 minutes"


def test_a_new_device_sends_nothing_before_it_is_installed_then_reads_its_normal() -> None:
    decoy = DecoySpec(id="new", kind=DecoyKind.NEW_DEVICE, community="c001", start=90 * M, end=3 * H)
    events = run(decoys=[decoy])
    mine = [e for e in events if e.get("device_id") == "c001.wl-1"]
    assert min(e["offset_s"] for e in mine) == 90 * 60, "no reading or heartbeat before 01:30"
    values = readings(events, "c001.wl-1")
    assert max(values.values()) - min(values.values()) < 0.1
    assert readings(events, "c001.wl-2"), "the other gauge was there all along"


def test_drifting_noise_drifts_by_its_end_and_leaves_the_time_before_alone() -> None:
    decoy = DecoySpec(id="drift", kind=DecoyKind.DRIFTING_NOISE, community="c001", start=1 * H, end=3 * H)
    drifting, plain = readings(run(decoys=[decoy]), "c001.wl-1"), readings(run(), "c001.wl-1")
    late = [drifting[t] - plain[t] for t in sorted(drifting) if t >= 2.5 * 3600]
    assert statistics.fmean(late) > 0.03, "drifted towards 10 noise floors (6 cm) by the end"
    assert all(drifting[t] == plain[t] for t in drifting if t < 3600), "nothing before the decoy"


def test_drifting_noise_wanders_by_three_noise_floors_correlated_over_a_minute_at_1_hz() -> None:
    rng, excursion, path = random.Random(1), 0.0, []
    for _ in range(50_000):
        excursion = drifting_noise_step(excursion, 0.006, 1.0, rng.gauss(0, 1))
        path.append(excursion)
    assert statistics.pstdev(path) == pytest.approx(3 * 0.006, rel=0.15)
    lag1 = statistics.correlation(path[:-1], path[1:])
    assert lag1 == pytest.approx(math.exp(-1 / DRIFT_CORRELATION_S), abs=0.01)
