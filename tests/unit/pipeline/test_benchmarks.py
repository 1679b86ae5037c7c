"""Benchmark building blocks: the workload is deterministic and the report says what it measured."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline.benchmarks.echo_relay import spike_community
from pipeline.benchmarks.latency_bench import LatencyAtRate, LatencyBenchReport, background
from pipeline.benchmarks.pipeline_bench import PipelineBenchReport, bytes_per_series
from pipeline.benchmarks.restore import STATE_KEY, RestoreFigure, checkpoint_records
from pipeline.benchmarks.soak import SoakReport, SoakSample
from pipeline.benchmarks.workload import Workload, spike_message
from pipeline.cli import main
from pipeline.config import Settings
from pipeline.processing.processor import detector_for, series_kind
from pipeline.state.checkpoint import DetectorCheckpoints


def test_workload_is_deterministic_and_batched_per_community() -> None:
    end = datetime(2026, 11, 23, tzinfo=UTC)
    first = Workload(communities=3, devices=4, ticks=2).messages(end)
    assert first == Workload(communities=3, devices=4, ticks=2).messages(end)
    key, value = first[0]
    batch = json.loads(value)
    assert key == b"bench-c0" and len(batch) == 4
    assert {r["community_id"] for r in batch} == {"bench-c0"}
    spike = json.loads(spike_message("bench-c1", 0, end)[1])
    assert [r["value"] for r in spike] == [5.0, 5.0]
    assert spike[0]["event_time"] < spike[1]["event_time"] == end.isoformat()


def test_memory_per_series_is_measured_and_small() -> None:
    measured = bytes_per_series(300)
    assert 50 < measured < 10 * 1024


def test_report_gives_ratio_and_scaling_against_the_baseline() -> None:
    report = PipelineBenchReport(
        workload={
            "communities": 1,
            "devices": 1,
            "ticks": 1,
            "series": 1,
            "readings": 1,
            "messages": 1,
            "partitions": 1,
        },
        baseline_readings_per_s=100.0,
        faust_ceiling_readings_per_s=80.0,
        pipeline_readings_per_s=40.0,
        two_workers_readings_per_s=60.0,
    )
    assert (report.ratio, report.ceiling_ratio, report.scaling) == (0.4, 0.8, 1.5)
    table, figures = report.as_table(), json.loads(report.as_json())
    assert "0.400" in table and "(÷ baseline 0.800)" in table
    assert (figures["scaling"], figures["ceiling_ratio"]) == (1.5, 0.8)


def test_report_sets_the_latency_against_the_relay_baseline() -> None:
    report = PipelineBenchReport(
        workload={"communities": 1, "devices": 1, "ticks": 1, "series": 1, "readings": 1, "messages": 1},
        latency_p50_ms=20.0,
        latency_p99_ms=60.0,
        latency_samples=200,
        relay_latency_p50_ms=4.0,
        relay_latency_p99_ms=12.0,
        relay_latency_samples=200,
    )
    assert report.latency_p99_ratio == 5.0
    table = report.as_table()
    assert "latency baseline: aiokafka relay, same rate  p50 4.0 ms, p99 12.0 ms (200 records)" in table
    assert "latency p99 pipeline / relay" in table and "5.00x" in table
    data = json.loads(report.as_json())
    assert (data["relay_latency_p50_ms"], data["relay_latency_p99_ms"], data["latency_p99_ratio"]) == (
        4.0,
        12.0,
        5.0,
    )
    assert PipelineBenchReport(workload=report.workload).latency_p99_ratio == 0.0, "no baseline, no ratio"


def test_relay_finds_the_spike_of_a_gateway_batch() -> None:
    end = datetime(2026, 11, 23, tzinfo=UTC)
    background = Workload(communities=1, devices=3, ticks=1).messages(end)[0][1]
    assert spike_community(background) is None
    assert spike_community(spike_message("bench-c7", 0, end)[1]) == "bench-c7"


def test_scrape_bench_fills_the_metrics_and_reports_the_render(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RISKWATCH_DETECTOR_WARMUP", "3")
    sizes = ["--communities", "5", "--series", "10", "--warnings", "2", "--rounds", "3"]
    assert main(["bench", "scrape", *sizes, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["communities"], report["series_monitored"], report["warnings_active"]) == (5, 10, 2)
    assert report["rounds"] == 3 and 0 < report["render_ms_median"] <= report["render_ms_max"]
    assert report["exposition_lines"] > report["samples"] > 5 + 2, "a line per community and warning at least"
    assert report["exposition_bytes"] > 0
    assert main(["bench", "scrape", *sizes]) == 0
    assert "median" in capsys.readouterr().out


def test_scrape_bench_refuses_sizes_that_do_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "scrape", "--communities", "3", "--series", "10"]) == 2
    assert "multiple of communities" in capsys.readouterr().err


def test_soak_report_prints_samples_over_time_and_a_summary() -> None:
    report = SoakReport(
        workload={"communities": 2, "devices": 5, "series": 10, "partitions": 2},
        minutes=1.0,
        rate_readings_per_s=1000.0,
        warmup_s=10.0,
        produced_readings=60_000,
        produced_s=60.0,
        caught_up_s=0.4,
    )
    report.samples = [
        SoakSample(0.0, 0, 0, 0, 80.0, 40.0, 0, worker_cpu_s=1.0, broker_cpu_s=1.0),
        SoakSample(10.0, 10_000, 9_950, 10, 100.0, 45.0, 0, worker_cpu_s=6.0, broker_cpu_s=9.0),
        SoakSample(60.0, 60_000, 60_000, 0, 102.0, 60.0, 0, worker_cpu_s=31.0, broker_cpu_s=69.0),
    ]
    table = report.as_table()
    assert "lag msgs" in table and " 995 " in table and " 1,001 " in table, "readings/s between samples"
    assert "100.0 -> 102.0 MiB (+2.00 %" in table and "max 10 messages" in table
    assert "50%         80%" in table and "50%        120%" in table, "worker and broker CPU per sample"
    data = json.loads(report.as_json())
    assert len(data["samples"]) == 3 and data["summary"]["rss_growth_pct"] == 2.0
    assert data["summary"]["achieved_rate_readings_per_s"] == 1000 and data["summary"]["dead_letters"] == 0


def test_restore_figure_is_in_the_pipeline_report() -> None:
    report = PipelineBenchReport(
        workload={"communities": 1, "devices": 1, "series": 1, "readings": 1, "messages": 1}
    )
    report.restore = RestoreFigure(
        series=100_000,
        state_bytes=190 * 2**20,
        prepare_s=20.0,
        ready_s=9.5,
        restored=100_000,
        monitored=100_000,
    )
    assert "ready (100,000 series restored)  9.5 s" in report.as_table()
    assert json.loads(report.as_json())["restore"]["ready_s"] == 9.5


def test_restore_bench_writes_states_the_worker_restores_warm() -> None:
    settings = Settings(detector_warmup=5)
    records = checkpoint_records(settings, STATE_KEY.encode(), series=30, partitions=4, templates=3)
    assert len({r.key for r in records}) == 30 and {r.partition for r in records} <= set(range(4))
    books = DetectorCheckpoints(detector_for(settings), STATE_KEY.encode(), series_kind)
    report = books.restore({r.key: (r.partition, r.blob or b"") for r in records})
    assert report.restored == 30
    scores = [books.bank.observe(r.key, "water_level", 1.0) for r in records]
    assert not any(s.warming_up for s in scores), "every series resumes warm"


def test_latency_report_gives_each_rate_against_the_relay() -> None:
    report = LatencyBenchReport(
        workload={"series": 6000, "devices": 20, "partitions": 4},
        ingest_batch_messages=50,
        rates=[
            LatencyAtRate(2000, 20.0, 60.0, 100, 10.0, 30.0, 100),
            LatencyAtRate(5000, 25.0, 90.0, 99, 11.0, 0.0, 0),
        ],
    )
    assert [r.p99_ratio for r in report.rates] == [2.0, 0.0]  # no relay figure: no ratio
    data = json.loads(report.as_json())
    assert data["ingest_batch_messages"] == 50
    assert [r["p99_ratio"] for r in data["rates"]] == [2.0, 0.0]
    table = report.as_table()
    assert "batches of up to 50 messages" in table and "2.00" in table


def test_latency_background_holds_the_rate_for_the_seconds_in_ticks_ending_now() -> None:
    workload = Workload(communities=3, devices=4, ticks=70)
    sent = background(workload, rate=100.0, seconds=2.0)  # 200 readings: 50 messages of 4
    assert len(sent) == 50
    assert [key for key, _ in sent[:4]] == [b"bench-c0", b"bench-c1", b"bench-c2", b"bench-c0"]
    times = [json.loads(value)[0]["event_time"] for _, value in sent]
    assert times == sorted(times) and len(set(times)) == 17  # 50 messages of 3 communities a tick


def test_latency_bench_refuses_more_spikes_than_communities(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "latency", "--rate", "100", "--rate", "200", "--communities", "10", "--spikes", "6"]
    assert main(argv) == 2
    assert "2 rates of 6 spikes need 12 communities; the workload has 10" in capsys.readouterr().err


def test_checkpoint_bench_times_both_ways_on_every_series(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RISKWATCH_DETECTOR_WARMUP", "3")
    assert main(["bench", "checkpoint", "--series", "40", "--devices", "4", "--rounds", "1", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert [f["way"] for f in figures] == ["stop-the-world", "cut"]
    assert all(f["series"] == 40 and f["checkpoint_ms"] > 0 and f["longest_wait_ms"] >= 0 for f in figures)
    assert main(["bench", "checkpoint", "--series", "10", "--devices", "4"]) == 2
    assert "multiple of devices" in capsys.readouterr().err


def test_handle_bench_times_warming_and_warmed_readings_by_stage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "handle", "--communities", "3", "--devices", "4", "--ticks", "5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    phases = report["phases"]
    assert [p["phase"] for p in phases] == ["warming", "warmed"]
    for phase in phases:
        stages = phase["stage_us_per_reading"]
        assert phase["readings"] == 3 * 4 * 5
        assert set(stages) == {"decode", "score", "assess"} and all(us > 0 for us in stages.values())
        assert sum(stages.values()) <= phase["us_per_reading"]
        assert phase["readings_per_s"] == pytest.approx(1e6 / phase["us_per_reading"])
    assert main(["bench", "handle", "--ticks", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
