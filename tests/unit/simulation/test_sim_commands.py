"""``riskwatch simulate`` and ``riskwatch drill`` on the command line, pacing, and the live demo feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.simulation.live import DEMO_WARM_UP_TICKS, live_feed
from pipeline.simulation.publishing import Pacer, live_start
from pipeline.simulation.truth import GroundTruth


def simulate(tmp_path: Path, name: str, *extra: str) -> tuple[list[str], GroundTruth]:
    out, truth = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.truth.json"
    args = ["simulate", "--out", str(out), "--truth", str(truth), "--communities", "12", "--duration", "PT5H"]
    assert main([*args, *extra]) == 0
    return out.read_text().splitlines(), GroundTruth.model_validate_json(truth.read_text())


def test_simulate_writes_the_same_lines_and_truth_for_the_same_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, truth = simulate(tmp_path, "a", "--seed", "4")
    again, truth_again = simulate(tmp_path, "b", "--seed", "4")
    other, _ = simulate(tmp_path, "c", "--seed", "5")
    assert first == again and truth == truth_again and first != other
    assert {json.loads(line)["kind"] for line in first} == {
        "sensor_reading",
        "device_telemetry",
        "resident_report",
    }
    assert len(truth.incidents) == 6 and len(truth.decoys) == 4
    assert "events/s" in capsys.readouterr().out


def test_simulate_takes_incident_and_decoy_kinds_as_flags(tmp_path: Path) -> None:
    _, truth = simulate(tmp_path, "f", "--incidents", "flood,gas_leak", "--decoys", "none", "--per-kind", "2")
    assert sorted(i.kind.value for i in truth.incidents) == ["flood", "flood", "gas_leak", "gas_leak"]
    assert truth.decoys == []


def test_simulate_runs_a_packaged_scenario_and_saves_what_it_ran(tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    scenario = Path(__file__).resolve().parents[3] / "pipeline" / "scenarios" / "smoke-test.json"
    lines, truth = simulate(tmp_path, "s", "--scenario", str(scenario), "--save-scenario", str(saved))
    assert truth.scenario == "smoke-test" and truth.start == datetime(2026, 6, 5, 11, tzinfo=UTC)
    assert json.loads(saved.read_text())["name"] == "smoke-test"
    assert lines


def test_simulate_and_drill_refuse_a_bad_scenario_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x"}')
    assert main(["simulate", "--out", str(tmp_path / "o.jsonl"), "--scenario", str(bad)]) == 2
    assert main(["drill", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_a_plan_that_does_not_fit_is_an_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--out", "/nonexistent/x", "--communities", "2"]) == 2
    assert "too few" in capsys.readouterr().err


def test_the_pacer_keeps_to_the_speedup_and_to_the_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(rate=None, speedup=60.0, clock=lambda: now[0], sleep=sleep)
    for offset in (0.0, 60.0, 120.0):
        pacer.wait(offset, events=10)
    assert slept == [1.0, 1.0]
    slept.clear()
    limited = Pacer(rate=100.0, speedup=60.0, clock=lambda: now[0], sleep=sleep)
    for offset in (0.0, 60.0):
        limited.wait(offset, events=500)
    assert slept == [5.0]


def test_a_paced_stream_never_runs_ahead_of_the_wall_clock() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    duration = timedelta(hours=6)
    for speedup in (1.0, 10.0, None):
        start = live_start(now, duration, speedup)
        for offset in (timedelta(0), duration / 2, duration):
            sent_at = now if speedup is None else now + offset / speedup
            assert start + offset <= sent_at


def test_the_live_feed_scripts_an_incident_after_the_warm_up_and_rotates_communities() -> None:
    feed = live_feed(
        communities=3,
        seed=1,
        tick=timedelta(seconds=1),
        incident_every=timedelta(seconds=60),
        start=datetime(2026, 6, 1, tzinfo=UTC),
    )
    ticks = [next(feed) for _ in range(DEMO_WARM_UP_TICKS + 121)]
    started = [(t.offset_s, i.communities[0], i.kind.value) for t in ticks for i in t.new_incidents]
    assert started == [
        (75.0, "demo-c001", "flood"),
        (135.0, "demo-c002", "gas_leak"),
        (195.0, "demo-c003", "fire"),
    ]
    water = [
        e["value"]
        for t in ticks[DEMO_WARM_UP_TICKS - 5 : DEMO_WARM_UP_TICKS + 25]
        for b in t.batches
        if b.community_id == "demo-c001" and b.kind == "sensor_reading"
        for e in b.events
        if e["device_id"] == "demo-c001.wl-1"
    ]
    assert max(water) - min(water) > 1.0
