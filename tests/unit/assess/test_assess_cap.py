"""CAP 1.2: mappings, district and false-alarm alerts valid against the OASIS XSD, and the rules it misses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pipeline.assess.cap import SEVERITY, cap_rule_problems, render_cap
from pipeline.assess.conformance import PolicyRun, inside
from pipeline.assess.tiers import TierPolicy
from schemas import FeedbackAction, Tier
from schemas.hazard import Impact

if TYPE_CHECKING:
    from xmlschema import XMLSchema

xmlschema = pytest.importorskip(
    "xmlschema", reason="CAP validation needs xmlschema (pip install xmlschema==4.3.2)"
)

XSD = Path(__file__).resolve().parents[2] / "data" / "cap" / "CAP-v1.2-schema.xsd"


@pytest.fixture(scope="module")
def schema() -> XMLSchema:
    loaded: XMLSchema = xmlschema.XMLSchema(XSD)
    return loaded


def test_the_xsd_copy_keeps_its_copyright_line() -> None:
    assert XSD.read_text(encoding="utf-8").startswith(
        "<!--  Copyright OASIS Open 2010 All Rights Reserved  -->"
    )


def test_severity_follows_the_impact() -> None:
    assert [SEVERITY[i] for i in Impact] == ["Minor", "Moderate", "Severe", "Extreme"]


def test_a_false_alarm_is_a_valid_cancel_marked_unlikely(schema: XMLSchema) -> None:
    run = PolicyRun(TierPolicy())
    run.hold(inside(run.policy, Tier.III), timedelta(minutes=3))
    run.act(FeedbackAction.FALSE_ALARM, operator="zhao.min")
    opened, marked = (render_cap(run.config, e) for e in run.events)
    for document in (opened, marked):
        schema.validate(document)
        assert cap_rule_problems(document) == []
    assert "<msgType>Alert</msgType>" in opened and "<references>" not in opened
    assert "<msgType>Cancel</msgType>" in marked and "<certainty>Unlikely</certainty>" in marked
    assert "<responseType>AllClear</responseType>" in marked and "<value>III;yellow</value>" in marked


def test_a_live_limit_exceedance_is_observed_and_immediate(schema: XMLSchema) -> None:
    run = PolicyRun(TierPolicy())
    for _ in range(3):
        signal = run.signal(0.6).model_copy(update={"limit_exceeded": True})
        run.collect(run.assessor.observe(signal))
        run.clock.advance(run.step)
    document = render_cap(run.config, run.events[0])
    schema.validate(document)
    assert "<urgency>Immediate</urgency>" in document and "<certainty>Observed</certainty>" in document


GOOD = (
    '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>w1.r2</identifier>'
    "<sender>riskwatch</sender><sent>2026-01-01T00:00:00-00:00</sent><status>Actual</status>"
    "<msgType>Update</msgType><scope>Public</scope>"
    "<references>riskwatch,w1.r1,2025-12-31T23:59:00-00:00</references></alert>"
)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("2026-01-01T00:00:00-00:00", "2026-01-01T00:00:00Z", "sent"),
        ("2026-01-01T00:00:00-00:00", "2026-01-01T00:00:00.5-00:00", "sent"),
        ("<identifier>w1.r2", "<identifier>w1 r2", "identifier"),
        ("<sender>riskwatch", "<sender>risk,watch", "sender"),
        ("<sender>riskwatch", "<sender>a&amp;b", "sender"),
        ("riskwatch,w1.r1,2025", "riskwatch,w1.r1;2025", "reference"),
        ("23:59:00-00:00</ref", "23:59-00:00</ref", "malformed sent"),
        ("<references>riskwatch,w1.r1,2025-12-31T23:59:00-00:00</references>", "", "must reference"),
    ],
)
def test_the_rules_the_schema_does_not_enforce(old: str, new: str, problem: str) -> None:
    assert cap_rule_problems(GOOD) == []
    broken = GOOD.replace(old, new)
    assert broken != GOOD
    assert any(problem in p for p in cap_rule_problems(broken)), cap_rule_problems(broken)
