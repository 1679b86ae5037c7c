"""One scripted incident end to end (rise → corroborating reports → peak → ack → recovery): the
tiers under one id, valid CAP 1.2 for every step, and the review timeline.

Run with ``-s`` to print what an operator sees, start to end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.assess.assessor import AssessmentOutput, Assessor
from pipeline.assess.cap import cap_rule_problems, render_cap
from pipeline.assess.config import Area, AssessmentConfig, Community
from pipeline.assess.episodes import NoticeKind, WarningEvent
from pipeline.assess.fusion import SourceSignal, sensor_score
from pipeline.assess.review import episode_review
from pipeline.clock import ManualClock
from schemas import Feedback, FeedbackAction, ReporterRole, Tier, WarningChange

xmlschema = pytest.importorskip(
    "xmlschema", reason="CAP validation needs xmlschema (pip install xmlschema==4.3.2)"
)

XSD = Path(__file__).resolve().parents[2] / "data" / "cap" / "CAP-v1.2-schema.xsd"
T0 = datetime(2026, 7, 14, 2, 0, tzinfo=UTC)
CONFIG = AssessmentConfig(
    communities={
        "riverside": Community(
            description="Riverside Community, East District", district_id="d-east", geocode="110101001001"
        ),
        "hillview": Community(
            description="Hillview Community, East District", district_id="d-east", geocode="110101001002"
        ),
    },
    districts={"d-east": Area(description="East District", geocode="110101001000")},
    cap_sender="riskwatch.east-district.example",
)
#: (minute, water-level surprise of wl-1, of wl-2); reports and the ack are scripted below.
LEVELS = (
    [(m, 2.0, 1.5) for m in range(0, 5)]
    + [
        (5, 5.5, 3.0),
        (6, 6.0, 3.5),
        (7, 6.5, 5.2),
        (8, 7.5, 6.0),
        (9, 8.5, 7.0),
        (10, 9.5, 8.0),
        (11, 10.0, 9.0),
        (12, 10.0, 9.5),
        (13, 10.5, 9.5),
        (14, 9.0, 9.0),
        (15, 7.0, 6.0),
    ]
    + [(m, 3.0, 2.0) for m in range(16, 60)]
)


def reading(minute: int, device: str, surprise: float, community: str = "riverside") -> SourceSignal:
    return SourceSignal(
        source="sensor",
        community_id=community,
        series=f"{community}/{device}/water_level",
        signal_type="water_level",
        device_id=device,
        observed_at=T0 + timedelta(minutes=minute),
        score=sensor_score(surprise),
        value=round(1.0 + surprise * 0.25, 2),
        expected=1.0,
        model="ewma_z/river-0.26.1",
    )


def resident_report(minute: int, report_id: str, role: ReporterRole) -> SourceSignal:
    return SourceSignal(
        source="report",
        community_id="riverside",
        series=f"riverside/reports/{role.value}",
        signal_type="flood",
        observed_at=T0 + timedelta(minutes=minute),
        score=0.9,
        report_id=report_id,
        reporter_role=role,
        model="report_category/keywords-1",
    )


def operator_lines(out: AssessmentOutput) -> list[str]:
    """What the duty officer's console shows for one call: revisions, then pages."""
    lines = []
    for event in out.events:
        w = event.warning
        lines.append(
            f"{w.updated_at:%H:%M}  WARNING r{w.revision} {w.change.value:<12} {w.tier.label:<10} "
            f"{w.status.value:<12} risk {w.risk:.3f} ({event.basis}: {', '.join(event.witnesses) or '-'}) "
            f"by {w.caused_by}"
        )
        lines += [
            f"          evidence: {e.source} {e.report_id or e.series} value={e.value} "
            f"expected={e.expected} score={e.score:.3f}"
            for e in w.evidence[:3]
        ]
    for notice in out.notifications:
        where = ", ".join(notice.topics) or f"(suppressed: {notice.suppressed_by})"
        lines.append(f"{notice.at:%H:%M}  PAGE L{notice.level} {notice.kind.value} -> {where}: {notice.text}")
    return lines


def run_incident() -> tuple[list[WarningEvent], AssessmentOutput, list[str]]:
    clock = ManualClock(T0)
    assessor = Assessor(CONFIG, clock)
    total = AssessmentOutput()
    console: list[str] = []

    def take(out: AssessmentOutput) -> None:
        total.events.extend(out.events)
        total.notifications.extend(out.notifications)
        console.extend(operator_lines(out))

    reports = {8: ("r-101", ReporterRole.RESIDENT), 9: ("r-102", ReporterRole.GRID_WORKER)}
    for minute, one, two in LEVELS:
        clock.advance(T0 + timedelta(minutes=minute) - clock.now())
        take(assessor.observe(reading(minute, "wl-1", one)))
        take(assessor.observe(reading(minute, "wl-2", two)))
        take(assessor.observe(reading(minute, "wl-9", 7.0 if 6 <= minute <= 14 else 2.0, "hillview")))
        if minute in reports:
            take(assessor.observe(resident_report(minute, *reports[minute])))
        if minute == 13:
            warning_id = assessor.open_warnings()[0].warning.warning_id
            ack = Feedback(
                feedback_id="fb-1",
                warning_id=warning_id,
                community_id="riverside",
                action=FeedbackAction.ACKNOWLEDGE,
                operator="wang.fang (east duty office)",
                comment="pumps dispatched",
                time=clock.now(),
            )
            take(assessor.act(ack))
        take(assessor.tick())
    return total.events, total, console


def test_the_incident_reads_back_as_one_warning_with_the_expected_tiers() -> None:
    events, output, console = run_incident()
    community = [e.warning for e in events if e.warning.community_id == "riverside"]
    assert len({w.warning_id for w in community}) == 1
    assert [(w.change, w.tier) for w in community] == [
        (WarningChange.OPENED, Tier.IV),
        (WarningChange.ESCALATED, Tier.III),
        (WarningChange.ESCALATED, Tier.II),
        (WarningChange.ESCALATED, Tier.I),
        (WarningChange.ACKNOWLEDGED, Tier.I),
        (WarningChange.DE_ESCALATED, Tier.III),  # the falling water's last readings held III
        (WarningChange.RESOLVED, Tier.III),
    ]
    red = community[3]
    assert {e.source for e in red.evidence} == {"sensor", "report"}, "red rests on sensors and reports"
    district = [e for e in events if e.scope == "district"]
    assert [(e.warning.change, e.warning.tier) for e in district] == [
        (WarningChange.OPENED, Tier.III),
        (WarningChange.ESCALATED, Tier.II),
        (WarningChange.ESCALATED, Tier.I),
        (WarningChange.DE_ESCALATED, Tier.III),
        (WarningChange.RESOLVED, Tier.III),
    ]
    assert district[0].covers == ("hillview", "riverside")
    assert community[0].warning_id in district[0].linked_warning_ids
    assert all(n.topics or n.suppressed_by for n in output.notifications), "a page went nowhere"
    riverside_pages = [n.kind for n in output.notifications if n.community_id == "riverside"]
    assert NoticeKind.REPEAT not in riverside_pages and NoticeKind.ACK_OVERDUE not in riverside_pages
    overdue = [n for n in output.notifications if n.kind is NoticeKind.ACK_OVERDUE]
    assert [(n.community_id, n.level, n.topics) for n in overdue] == [
        ("d-east", 2, ("responders.city_emergency",))
    ], "the unacknowledged red district warning climbs to the city once"
    print("\n" + "\n".join(console))


def test_every_step_renders_as_valid_cap() -> None:
    schema = xmlschema.XMLSchema(XSD)
    events, _, _ = run_incident()
    documents = [render_cap(CONFIG, event, timedelta(hours=1)) for event in events]
    for document in documents:
        schema.validate(document)
        assert cap_rule_problems(document) == []
    riverside = [d for d, e in zip(documents, events, strict=True) if e.warning.community_id == "riverside"]
    msg_types = [d.split("<msgType>")[1].split("<")[0] for d in riverside]
    assert msg_types == ["Alert"] + ["Update"] * 5 + ["Cancel"]
    red = riverside[3]
    assert "<severity>Extreme</severity>" in red and "<value>I;red</value>" in red
    assert "<certainty>Observed</certainty>" in red and "<geocode><valueName>CN_DIVISION_CODE" in red
    assert red.count("riskwatch.east-district.example,") == 3, "an update references every earlier message"
    district = next(d for d, e in zip(documents, events, strict=True) if e.scope == "district")
    assert district.count("<area>") == 3 and "<value>110101001000</value>" in district
    print("\n" + red)


def test_the_review_timeline() -> None:
    events, _, _ = run_incident()
    review = episode_review(e.warning for e in events if e.warning.community_id == "riverside")
    assert [tier for _, tier in review.tiers_reached] == [Tier.IV, Tier.III, Tier.II, Tier.I]
    sources = [what for _, _, what, _ in review.first_showed]
    assert sources[:2] == ["riverside/wl-1/water_level", "riverside/wl-2/water_level"]
    assert "r-101" in sources
    assert review.acknowledgements[0].operator == "wang.fang (east duty office)"
    assert review.time_to_acknowledge is not None and review.time_to_close is not None
    assert review.time_to_acknowledge < review.time_to_close
    assert review.false_alarm is None
    print("\n" + review.text())
