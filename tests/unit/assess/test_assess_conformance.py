"""Every tier policy the project ships passes the one conformance suite, and the suite can fail."""

from __future__ import annotations

from datetime import datetime

import pytest

import pipeline.assess.assessor as assessor_module
from pipeline.assess.conformance import SCENARIOS, check_policy
from pipeline.assess.tiers import LadderState, TierPolicy, advance
from schemas.hazard import Impact
from schemas.warning import WarningChange

POLICIES = {
    "default": TierPolicy(),
    "demo (fast: one reading enters, 10 s dwell)": TierPolicy(
        enter_n=1, enter_m=1, enter_s=0.0, exit_dwell_s=10.0, exit_n=1, flap_window_s=60.0
    ),
    "strict (3 of 5, 15 min dwell)": TierPolicy(
        enter_n=3, enter_m=5, exit_dwell_s=900.0, flap_window_s=3600.0, flap_max_reversals=4
    ),
    "narrow hysteresis": TierPolicy(enter=(0.4, 0.6, 0.8, 0.9), exit=(0.38, 0.58, 0.78, 0.88)),
}


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_policy_passes_conformance(policy: TierPolicy) -> None:
    assert check_policy(policy) == [scenario.__name__ for scenario in SCENARIOS]


def test_conformance_catches_a_ladder_that_steps_down_without_dwell(monkeypatch: pytest.MonkeyPatch) -> None:
    def hasty(
        policy: TierPolicy,
        state: LadderState,
        at: object,
        risk: float,
        impact: Impact,
        warming_up: bool,
        corroborated: bool = False,
        observed_at: datetime | None = None,
    ) -> tuple[LadderState, WarningChange | None]:
        fast = policy.model_copy(update={"exit_dwell_s": 1e-3})
        return advance(
            fast, state, at, risk, impact, warming_up, corroborated=corroborated, observed_at=observed_at
        )  # type: ignore[arg-type]

    monkeypatch.setattr(assessor_module, "advance", hasty)
    with pytest.raises(AssertionError, match="recovery: lifted before one exit dwell"):
        check_policy(TierPolicy())


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"enter": (0.5, 0.4, 0.85, 0.95)}, "enter thresholds must rise"),
        ({"exit": (0.35, 0.75, 0.55, 0.9)}, "exit thresholds must rise"),
        ({"exit": (0.5, 0.55, 0.75, 0.9)}, "below its tier's enter threshold"),
        ({"enter_n": 4, "enter_m": 3}, "enter_n cannot exceed enter_m"),
        ({"enter_n": 1, "enter_m": 1}, "enter_s needs enter_n of 2 or more"),
    ],
)
def test_a_policy_without_a_sound_ladder_is_refused(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        TierPolicy.model_validate(changes)
