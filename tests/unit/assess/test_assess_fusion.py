"""Fusion: independent sources raise the risk, faulty devices raise notices, districts roll up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.assess.assessor import AssessmentOutput, Assessor
from pipeline.assess.config import AssessmentConfig, Community
from pipeline.assess.episodes import NoticeKind
from pipeline.assess.fusion import FusionConfig, SourceSignal, fuse
from pipeline.assess.tiers import TierPolicy
from pipeline.clock import ManualClock
from schemas import Hazard, ReporterRole, Tier, WarningChange

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def sensor(
    score: float,
    minute: float = 0,
    device: str = "wl-1",
    community: str = "c1",
    sensor_type: str = "water_level",
) -> SourceSignal:
    return SourceSignal(
        source="sensor",
        community_id=community,
        series=f"{community}/{device}/{sensor_type}",
        signal_type=sensor_type,
        device_id=device,
        observed_at=T0 + timedelta(minutes=minute),
        score=score,
        value=2.5,
        expected=1.0,
        model="ewma_z/test",
    )


def report(
    role: ReporterRole, report_id: str, minute: float = 0, category: str = "flood", score: float = 0.9
) -> SourceSignal:
    return SourceSignal(
        source="report",
        community_id="c1",
        series=f"c1/reports/{role.value}",
        signal_type=category,
        observed_at=T0 + timedelta(minutes=minute),
        score=score,
        report_id=report_id,
        reporter_role=role,
        model="report/test",
    )


def health(device: str, finding: str, minute: float = 0, community: str = "c1") -> SourceSignal:
    return SourceSignal(
        source="device_health",
        community_id=community,
        series=f"{community}/{device}/health",
        signal_type=finding,
        device_id=device,
        observed_at=T0 + timedelta(minutes=minute),
        score=0.95,
        model="health/test",
    )


def risk_of(signals: list[SourceSignal], hazard: Hazard = Hazard.FLOOD) -> float:
    risks, _ = fuse(FusionConfig(), signals, T0 + timedelta(minutes=5))
    return next((r.risk for r in risks if r.hazard is hazard), 0.0)


def test_two_sensors_agreeing_raise_the_risk_above_either() -> None:
    assert risk_of([sensor(0.8), sensor(0.8, device="wl-2")]) > risk_of([sensor(0.8)]) == 0.8


def test_a_sensor_and_reports_agreeing_raise_the_risk() -> None:
    alone = risk_of([sensor(0.8)])
    assert risk_of([sensor(0.8), report(ReporterRole.RESIDENT, "r1")]) > alone


def test_a_grid_worker_and_residents_are_independent_witnesses() -> None:
    residents = [report(ReporterRole.RESIDENT, f"r{i}") for i in range(2)]
    both = [*residents, report(ReporterRole.GRID_WORKER, "g1")]
    risks, _ = fuse(FusionConfig(), both, T0 + timedelta(minutes=1))
    assert risks[0].witnesses == ("reporters:grid_worker", "reporters:resident")
    assert risks[0].risk > risk_of(residents)


def test_one_witness_alone_never_reaches_red() -> None:
    assert risk_of([sensor(0.999)]) == FusionConfig().lone_witness_cap < TierPolicy().enter_of(Tier.I)
    assert risk_of([sensor(0.999), report(ReporterRole.POLICE, "p1")]) > TierPolicy().enter_of(Tier.I)


def test_more_reports_from_one_role_add_less_than_another_role() -> None:
    residents = [report(ReporterRole.RESIDENT, f"r{i}", score=0.9) for i in range(3)]
    assert (
        risk_of(residents[:1])
        < risk_of(residents)
        < risk_of([*residents[:2], report(ReporterRole.SOCIAL_ORG, "s1")])
    )


def test_reports_alone_stop_at_orange_however_many_roles_agree() -> None:
    roles = [ReporterRole.RESIDENT, ReporterRole.POLICE, ReporterRole.GRID_WORKER]
    people = [report(role, f"r{i}", score=1.0) for i, role in enumerate(roles)]
    cap = FusionConfig().reports_only_cap
    assert risk_of(people) == cap
    assert TierPolicy().enter_of(Tier.II) <= cap < TierPolicy().enter_of(Tier.I)
    assert risk_of([*people, sensor(0.9)]) > TierPolicy().enter_of(Tier.I), "an instrument confirms: red"


def test_a_power_outage_alone_stops_at_orange() -> None:
    dark = [sensor(0.99, device=f"pw-{i}", sensor_type="power") for i in range(8)]
    assert risk_of(dark, Hazard.POWER_OUTAGE) == FusionConfig().hazard_caps[Hazard.POWER_OUTAGE]
    assert (
        TierPolicy().enter_of(Tier.II) <= risk_of(dark, Hazard.POWER_OUTAGE) < TierPolicy().enter_of(Tier.I)
    )


def test_everyday_complaints_witness_no_hazard_however_many_come() -> None:
    complaints = [
        report(ReporterRole.RESIDENT, f"n{i}", category="public_security", score=0.99).model_copy(
            update={"severity": 2}
        )
        for i in range(20)
    ]
    assert risk_of(complaints, Hazard.PUBLIC_SECURITY) == 0.0
    serious = complaints[0].model_copy(update={"severity": 3})
    assert risk_of([serious], Hazard.PUBLIC_SECURITY) > 0.5


def test_faint_signals_do_not_add_up_and_old_ones_expire() -> None:
    faint = [sensor(0.4, device=f"wl-{i}") for i in range(10)]
    assert risk_of(faint) == 0.0
    stale = sensor(0.9, minute=-20)
    assert risk_of([stale]) == 0.0


def test_the_hazard_mapping_comes_from_configuration() -> None:
    config = FusionConfig(sensor_hazards={"vibration": Hazard.FLOOD})
    risks, _ = fuse(config, [sensor(0.9, sensor_type="vibration")], T0)
    assert [r.hazard for r in risks] == [Hazard.FLOOD]


def test_a_lone_spike_from_a_faulty_device_is_a_device_fault_not_a_hazard() -> None:
    risks, faults = fuse(
        FusionConfig(), [health("wl-1", "stuck"), sensor(0.99, minute=1)], T0 + timedelta(minutes=2)
    )
    assert [r.risk for r in risks] == [0.0]
    withheld = [f for f in faults if f.hazard is Hazard.FLOOD]
    assert [(f.device_id, f.finding) for f in withheld] == [("wl-1", "stuck")]
    assert {e.source for e in withheld[0].evidence} == {"sensor", "device_health"}


def test_a_faulty_device_counts_once_a_healthy_witness_corroborates() -> None:
    signals = [health("wl-1", "stuck"), sensor(0.9, minute=1), sensor(0.8, minute=1, device="wl-2")]
    risks, faults = fuse(FusionConfig(), signals, T0 + timedelta(minutes=2))
    assert risks[0].witnesses == ("device:wl-1", "device:wl-2")
    assert all(f.hazard is None for f in faults)


def test_an_offline_device_is_inhibited_even_when_others_agree() -> None:
    signals = [health("wl-1", "offline"), sensor(0.99, minute=1), sensor(0.8, minute=1, device="wl-2")]
    risks, _ = fuse(FusionConfig(), signals, T0 + timedelta(minutes=2))
    assert risks[0].witnesses == ("device:wl-2",) and risks[0].risk == 0.8


def drive(assessor: Assessor, clock: ManualClock, signals: list[SourceSignal]) -> AssessmentOutput:
    total = AssessmentOutput()
    for signal in signals:
        clock.advance(max(signal.observed_at - clock.now(), timedelta(0)))
        out = assessor.observe(signal)
        total.events += out.events
        total.notifications += out.notifications
        total.device_faults += out.device_faults
    return total


def test_the_assessor_sends_a_device_fault_notice_once_instead_of_a_warning() -> None:
    clock = ManualClock(T0)
    assessor = Assessor(AssessmentConfig(), clock)
    out = drive(assessor, clock, [health("wl-1", "fault"), *(sensor(0.99, minute=m) for m in range(1, 6))])
    assert out.events == []
    faults = [n for n in out.notifications if n.kind is NoticeKind.DEVICE_FAULT]
    assert [(n.devices, n.hazard) for n in faults] == [(("wl-1",), Hazard.DEVICE_FAULT)] * 2
    assert "not taken as a hazard" in faults[1].text
    assert faults[0].topics == ("responders.grid_workers", "responders.maintenance")


def test_corroboration_raises_the_tier_of_an_open_warning() -> None:
    clock = ManualClock(T0)
    assessor = Assessor(AssessmentConfig(), clock)
    out = drive(assessor, clock, [sensor(0.8, minute=m) for m in range(3)])
    assert [(e.warning.change, e.warning.tier) for e in out.events] == [(WarningChange.OPENED, Tier.III)]
    out = drive(assessor, clock, [report(ReporterRole.GRID_WORKER, "g1", minute=2), sensor(0.8, minute=3)])
    rise = out.events[-1]
    assert (rise.warning.change, rise.warning.tier, rise.basis) == (
        WarningChange.ESCALATED,
        Tier.II,
        "corroborated",
    )
    assert {e.source for e in rise.warning.evidence} == {"sensor", "report"}
    assert rise.witnesses == ("device:wl-1", "reporters:grid_worker")


def test_the_same_hazard_in_two_communities_of_a_district_raises_a_district_warning() -> None:
    communities = {name: Community(description=name, district_id="d1") for name in ("c1", "c2", "c3")}
    clock = ManualClock(T0)
    assessor = Assessor(AssessmentConfig(communities=communities), clock)
    outage = [
        sensor(0.8, minute=m, community=c, sensor_type="power", device=f"{c}-pw")
        for m in range(3)
        for c in ("c1", "c2")
    ]
    out = drive(assessor, clock, outage)
    district = [e for e in out.events if e.scope == "district"]
    community = [e for e in out.events if e.scope == "community"]
    assert len(community) == 2 and len(district) == 1
    assert district[0].warning.community_id == "d1"
    assert set(district[0].linked_warning_ids) == {e.warning.warning_id for e in community}
    notice = next(n for n in out.notifications if n.warning_id == district[0].warning.warning_id)
    assert notice.topics == ("responders.district_command",)
    calm = [
        sensor(0.0, minute=m, community=c, sensor_type="power", device=f"{c}-pw")
        for m in range(3, 40)
        for c in ("c1", "c2")
    ]
    out = drive(assessor, clock, calm)
    closing = [e for e in out.events if e.scope == "district"]
    assert closing[-1].warning.change is WarningChange.RESOLVED
    assert assessor.open_warnings() == []


def test_a_health_finding_does_not_discount_readings_taken_before_it() -> None:
    """Readings and telemetry come on different topics and may be processed in either order;
    a device found faulty at 12:05 still witnessed what it read at 12:01."""
    from datetime import UTC, datetime, timedelta

    from pipeline.assess.fusion import FusionConfig, SourceSignal, fuse

    at = datetime(2026, 11, 23, 12, 1, tzinfo=UTC)
    reading = SourceSignal(
        source="sensor",
        community_id="c1",
        series="c1/smoke-1/smoke",
        signal_type="smoke",
        device_id="smoke-1",
        observed_at=at,
        score=0.9,
        model="m",
    )
    fault = SourceSignal(
        source="device_health",
        community_id="c1",
        series="c1/smoke-1/health",
        signal_type="offline",
        device_id="smoke-1",
        observed_at=at + timedelta(minutes=4),
        score=1.0,
        model="device_health",
    )
    [risk], _ = fuse(FusionConfig(), [fault, reading], at + timedelta(minutes=4))
    assert risk.risk == 0.9
    later = reading.model_copy(update={"observed_at": at + timedelta(minutes=5)})
    risks, _ = fuse(FusionConfig(), [fault, later], at + timedelta(minutes=5))
    assert all(r.risk == 0.0 for r in risks), "after the finding, an offline device's readings do not count"


def test_communities_on_different_workers_roll_up_at_the_district_owner() -> None:
    """Each worker sees only its partitions' communities; the district's owner links them."""
    communities = {name: Community(description=name, district_id="d1") for name in ("c1", "c2")}
    config = AssessmentConfig(communities=communities)
    clock = ManualClock(T0)
    workers = {c: Assessor(config, clock, roll_up_locally=False) for c in ("c1", "c2")}
    owner = Assessor(config, clock, roll_up_locally=False)
    district_events = []
    for m in range(3):
        for c, worker in workers.items():
            out = drive(worker, clock, [sensor(0.8, minute=m, community=c, sensor_type="power", device="pw")])
            assert all(e.scope == "community" for e in out.events), "no worker rolls up on its own"
            for event in out.events:
                district_events += owner.note_member("d1", event.warning).events
                assert owner.note_member("d1", event.warning).events == [], "a redelivery changes nothing"
    [opened] = district_events
    assert opened.scope == "district" and opened.covers == ("c1", "c2")

    checkpoint = owner.export_district("d1")
    assert checkpoint is not None and set(checkpoint["members"]["d1|power_outage"]) == {"c1", "c2"}
    successor = Assessor(config, clock, roll_up_locally=False)
    successor.import_community(checkpoint)
    owner.forget_district("d1")
    assert owner.export_district("d1") is None
    closing = []
    for m in range(3, 40):
        for c, worker in workers.items():
            out = drive(worker, clock, [sensor(0.0, minute=m, community=c, sensor_type="power", device="pw")])
            for event in out.events:
                closing += successor.note_member("d1", event.warning).events
    assert [e.warning.warning_id for e in closing] == [opened.warning.warning_id] * len(closing)
    assert closing[-1].warning.change is WarningChange.RESOLVED
