"""Report streams: Poisson burst scoring, reporter credibility, and the feedback-trained classifier."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta

import pytest

from detectors.reports.classifier import ReportCategoryClassifier, tokenize
from detectors.reports.credibility import ReporterCredibility
from detectors.reports.rate import BurstConfig, ReportBursts, poisson_tail
from detectors.reports.seed import SEED_REPORTS
from schemas.events import ReporterRole
from schemas.feedback import FeedbackAction
from schemas.hazard import Hazard

T0 = datetime(2026, 6, 1, 0, 0)

# --- Poisson tail and bursts ----------------------------------------------


@pytest.mark.parametrize("mu", [1e-3, 0.04, 0.7, 3.0, 25.0, 140.0])
@pytest.mark.parametrize("k", [0, 1, 2, 5, 12, 40, 150])
def test_poisson_tail_matches_scipy(k: int, mu: float) -> None:
    stats = pytest.importorskip("scipy.stats")
    expected = float(stats.poisson.sf(k - 1, mu))
    assert poisson_tail(k, mu) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_one_report_in_a_new_community_is_not_a_burst_but_four_in_a_quarter_hour_are() -> None:
    bursts = ReportBursts()
    first = bursts.observe("c-new", Hazard.FLOOD, T0)
    assert first.count == 1 and first.p_value > 0.01
    later = [bursts.observe("c-new", Hazard.FLOOD, T0 + timedelta(minutes=m)) for m in (4, 9, 15)]
    assert later[-1].count == 4
    assert later[-1].p_value < 1e-4
    assert later[-1].score.surprise > 4 and later[-1].score.contributor == "flood"


def test_the_same_four_reports_are_ordinary_where_reports_are_common() -> None:
    bursts = ReportBursts()
    for hour in range(14 * 24):  # two weeks of about three reports an hour
        for minute in (5, 25, 45):
            bursts.observe("c-busy", Hazard.OTHER, T0 + timedelta(hours=hour, minutes=minute))
    start = T0 + timedelta(days=14, minutes=30)
    last = [bursts.observe("c-busy", Hazard.OTHER, start + timedelta(minutes=m)) for m in (0, 4, 9, 15)][-1]
    assert 2.0 < last.expected < 4.0
    assert last.p_value > 0.05


def test_communities_and_categories_have_separate_baselines() -> None:
    bursts = ReportBursts()
    for m in range(10):
        bursts.observe("c1", Hazard.FIRE, T0 + timedelta(minutes=m))
    assert bursts.observe("c1", Hazard.FLOOD, T0 + timedelta(minutes=11)).count == 1
    assert bursts.observe("c2", Hazard.FIRE, T0 + timedelta(minutes=11)).count == 1
    assert len(bursts) == 3


def test_reports_leave_the_window() -> None:
    bursts = ReportBursts(BurstConfig(window=timedelta(minutes=30)))
    for m in (0, 5, 10):
        bursts.observe("c1", Hazard.FIRE, T0 + timedelta(minutes=m))
    assert bursts.observe("c1", Hazard.FIRE, T0 + timedelta(minutes=38)).count == 2


def test_a_burst_is_not_learned_into_the_baseline() -> None:
    protected, unprotected = ReportBursts(), ReportBursts(BurstConfig(protect_p=0.0))
    for bank in (protected, unprotected):
        for m in range(40):
            bank.observe("c1", Hazard.GAS_LEAK, T0 + timedelta(minutes=m))
    later = T0 + timedelta(days=1)
    assert protected.observe("c1", Hazard.GAS_LEAK, later).expected < 0.1
    assert unprotected.observe("c1", Hazard.GAS_LEAK, later).expected > 0.1


# --- credibility --------------------------------------------------------


def test_roles_are_ranked_by_their_priors() -> None:
    cred = ReporterCredibility()
    weights = [cred.weight(role) for role in ReporterRole]
    order = [ReporterRole.POLICE, ReporterRole.GRID_WORKER, ReporterRole.SOCIAL_ORG, ReporterRole.RESIDENT]
    assert sorted(ReporterRole, key=cred.weight, reverse=True) == order
    assert all(0 < w < 1 for w in weights)


def test_a_false_alarm_lowers_the_role_a_little_and_the_reporter_more() -> None:
    cred = ReporterCredibility()
    before = cred.weight(ReporterRole.GRID_WORKER)
    cred.record(ReporterRole.GRID_WORKER, "gw-9", FeedbackAction.FALSE_ALARM)
    role_after, reporter_after = (
        cred.weight(ReporterRole.GRID_WORKER),
        cred.weight(ReporterRole.GRID_WORKER, "gw-9"),
    )
    assert before - 0.05 < role_after < before
    assert reporter_after < role_after
    assert cred.weight(ReporterRole.GRID_WORKER, "gw-other") == role_after  # unknown: the role's weight


def test_a_resolved_warning_raises_credibility_and_an_acknowledgement_says_nothing() -> None:
    cred = ReporterCredibility()
    before = cred.weight(ReporterRole.RESIDENT)
    cred.record(ReporterRole.RESIDENT, None, FeedbackAction.ACKNOWLEDGE)
    assert cred.weight(ReporterRole.RESIDENT) == before
    cred.record(ReporterRole.RESIDENT, None, FeedbackAction.RESOLVE)
    assert cred.weight(ReporterRole.RESIDENT) > before


def test_repeated_false_alarms_sink_a_reporter_below_an_honest_one() -> None:
    cred = ReporterCredibility()
    for _ in range(5):
        cred.record(ReporterRole.POLICE, "p-1", FeedbackAction.FALSE_ALARM)
        cred.record(ReporterRole.RESIDENT, "r-1", FeedbackAction.RESOLVE)
    assert cred.weight(ReporterRole.POLICE, "p-1") < cred.weight(ReporterRole.RESIDENT, "r-1")


def test_known_reporters_are_bounded() -> None:
    cred = ReporterCredibility(max_reporters=2)
    for reporter in ("a", "b", "c"):
        cred.record(ReporterRole.RESIDENT, reporter, FeedbackAction.FALSE_ALARM)
    role = cred.weight(ReporterRole.RESIDENT)
    assert cred.weight(ReporterRole.RESIDENT, "a") == role  # forgotten
    assert cred.weight(ReporterRole.RESIDENT, "c") < role


def test_priors_must_cover_every_role() -> None:
    with pytest.raises(ValueError, match="lack roles"):
        ReporterCredibility({ReporterRole.POLICE: 0.9})


# --- text classifier -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("there is a smell of gas in my kitchen", Hazard.GAS_LEAK),
        ("the basement is flooded after the rain", Hazard.FLOOD),
        ("flames and smoke from the garage", Hazard.FIRE),
        ("no electricity in our building since noon", Hazard.POWER_OUTAGE),
        ("墙上有裂缝", Hazard.STRUCTURAL),
        ("家里停电了", Hazard.POWER_OUTAGE),
        ("闻到煤气味", Hazard.GAS_LEAK),
    ],
)
def test_cold_start_classifies_plain_reports(text: str, category: Hazard) -> None:
    assert ReportCategoryClassifier().predict_one(text).category is category


def test_every_category_is_seeded() -> None:
    assert set(SEED_REPORTS) == set(Hazard)
    assert set(ReportCategoryClassifier().predict_proba_one("anything")) == set(Hazard)


def test_a_few_operator_corrections_change_the_prediction() -> None:
    clf = ReportCategoryClassifier()
    text = "the lift is stuck between floors with people inside"
    assert clf.predict_one(text).category is not Hazard.STRUCTURAL
    corrections = [
        "lift stuck between floors, people trapped",
        "elevator stuck with an old man inside",
        "people trapped in the lift for an hour",
    ]
    for correction in corrections:
        clf.learn_one(correction, Hazard.STRUCTURAL)
    guess = clf.predict_one(text)
    assert guess.category is Hazard.STRUCTURAL and guess.probability > 0.5
    assert clf.predict_one("strong smell of gas in the stairwell").category is Hazard.GAS_LEAK


def test_probabilities_sum_to_one_and_survive_pickling() -> None:
    clf = ReportCategoryClassifier()
    clf.learn_one("manhole cover missing on the road", Hazard.OTHER)
    probabilities = clf.predict_proba_one("smoke in the hallway")
    assert sum(probabilities.values()) == pytest.approx(1.0)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.predict_proba_one("smoke in the hallway") == probabilities


def test_an_empty_classifier_says_other() -> None:
    guess = ReportCategoryClassifier(seed={}).predict_one("anything at all")
    assert (guess.category, guess.probability) == (Hazard.OTHER, 1.0)


def test_tokens_of_mixed_text() -> None:
    assert tokenize("Water IN the 车库") == ["water", "车", "库", "车库"]


@pytest.mark.parametrize("text", ["smell of gas on the stairs", "楼下积水很深", "words it has never seen"])
def test_probabilities_equal_rivers_multinomial_nb(text: str) -> None:
    clf = ReportCategoryClassifier()
    clf.learn_one("gas smell near the boiler", Hazard.GAS_LEAK)
    ours = clf.predict_proba_one(text)
    rivers = clf._model.predict_proba_one(clf._counts(text))
    assert ours == pytest.approx(rivers, rel=1e-9, abs=1e-12)
