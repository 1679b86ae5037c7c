"""kill -9, five times, with valid traffic and the default settings: the outcome is the clean run's,
with one worker and with two in a group.

Two runs of one simulated community (readings, telemetry, reports; incidents
that open, escalate and close warnings) on topics of their own: one worker
undisturbed, and one whose workers are killed with kill -9 at five random
moments, each replaced at once. Afterwards every (warning id, revision) must mean one
content, and the same content as in the clean run; and the state topics must
hold the same resume point — every input offset, exactly — and the same models
for every partition. The crashed run's input is published live (paced) while
the kills happen; the clean run's all at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.broker import EmbeddedBroker
from pipeline.checkpoint_generations import PartitionFold
from pipeline.simulation.generator import Batch
from tests.integration.crash_run import (
    CrashRun,
    RunOutcome,
    clean_run,
    killed_run,
    random_kills,
    simulated_input,
)


def comparable(fold: PartitionFold) -> tuple[dict[str, int], dict[str, bytes]]:
    """A partition's resume point (topic names without the run's prefix) and its models.

    Models learn from inputs alone, so after the same inputs they are the same bytes.
    Assessment state is left out: device silence is found on a timer against the stream
    time it has reached then, so a paced and an unpaced run legitimately differ there.
    """
    resume_at = (
        {} if fold.marker is None else {t.split(".", 1)[1]: o for t, o in fold.marker.resume_at.items()}
    )
    return resume_at, fold.states["detector"]


def one_content_each(outcome: RunOutcome) -> dict[tuple[str, int], bytes]:
    revisions = outcome.revisions()
    reused = {key: len(contents) for key, contents in revisions.items() if len(contents) > 1}
    assert not reused, f"revisions with more than one content: {reused}"
    return {key: contents.pop() for key, contents in revisions.items()}


@pytest.fixture(scope="module")
def batches() -> list[Batch]:
    """The simulated input, made once: every run of this module gets the very same events."""
    return simulated_input()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory: every worker signs with the state key the first one makes there."""
    return tmp_path_factory.mktemp("crash-data")


@pytest.fixture(scope="module")
def clean(
    broker: EmbeddedBroker, batches: list[Batch], data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> RunOutcome:
    """The undisturbed run every crashed run is compared with."""
    outcome = clean_run(CrashRun(broker, tmp_path_factory.mktemp("clean"), "clean", data_dir), batches)
    changes = {json.loads(value)["change"] for _, value in outcome.warnings}
    assert {"opened", "resolved"} <= changes, f"the input must open and close warnings: {changes}"
    return outcome


def assert_same_outcome(crashed: RunOutcome, clean: RunOutcome) -> None:
    """One content per revision, the clean run's; the same resume points and models."""
    expected = one_content_each(clean)
    got = one_content_each(crashed)
    assert got.keys() == expected.keys(), (
        f"missing {sorted(expected.keys() - got.keys())}, extra {sorted(got.keys() - expected.keys())}"
    )
    differing = [key for key in expected if got[key] != expected[key]]
    assert not differing, f"revisions whose content differs from the clean run: {differing}"
    for partition, fold in clean.folds.items():
        assert comparable(crashed.folds[partition]) == comparable(fold), f"partition {partition}"


def test_five_kills_of_a_lone_worker_leave_the_warnings_and_models_of_a_clean_run(
    broker: EmbeddedBroker, batches: list[Batch], data_dir: Path, clean: RunOutcome, tmp_path: Path
) -> None:
    run = CrashRun(broker, tmp_path, "lone", data_dir)
    killed_run(run, batches, random_kills(seed=17, count=5, workers=1, low_s=0.5, high_s=8.0), publish_s=40)
    assert_same_outcome(run.outcome(), clean)


def test_five_kills_among_two_workers_leave_the_warnings_and_models_of_a_clean_run(
    broker: EmbeddedBroker, batches: list[Batch], data_dir: Path, clean: RunOutcome, tmp_path: Path
) -> None:
    """Each kill moves the victim's partitions to the survivor (restored from the last complete
    checkpoint), and the replacement's arrival moves some back (checkpointed on revoke)."""
    run = CrashRun(broker, tmp_path, "pair", data_dir)
    killed_run(
        run,
        batches,
        random_kills(seed=23, count=5, workers=2, low_s=0.5, high_s=8.0),
        publish_s=40,
        workers=2,
    )
    assert_same_outcome(run.outcome(), clean)
