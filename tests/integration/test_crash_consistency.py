"""kill -9, five times, with valid traffic and the default settings, against a clean run of the
same input: with one worker and with two in a group.

Two runs of one simulated community (readings, telemetry, reports; incidents
that open, escalate and close warnings) on topics of their own: one worker
undisturbed, with the input published at once; and one whose workers are killed
with kill -9 at five random moments, each replaced at once, while the input is
published live (paced). Afterwards every (warning id, revision) must mean one
content; every warning of the clean run must be there and end as it did there
(same last change and tier); and the state topics must hold the same resume point
— every input offset, exactly — and the same models for every partition.

Not asserted: that every revision's content equals the clean run's. A catch-up
reads the three input topics in another interleaving than live traffic, so a
replayed revision may fold a report in before a reading it followed the first
time, and its evidence differs. The revision fence (:mod:`pipeline.state.revision_fence`)
renumbers such a revision past what was emitted, so no (warning id, revision) ever
means two contents; the test prints how many revisions came out byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.simulation.generator import Batch
from pipeline.state.checkpoint_generations import PartitionFold
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


def differences(contents: set[bytes]) -> dict[str, list[object]]:
    """The fields in which a revision's contents disagree, with each content's value."""
    parsed = [json.loads(c) for c in contents]
    fields = sorted({name for p in parsed for name in p})
    return {f: [p.get(f) for p in parsed] for f in fields if len({json.dumps(p.get(f)) for p in parsed}) > 1}


def one_content_each(outcome: RunOutcome) -> dict[tuple[str, int], bytes]:
    revisions = outcome.revisions()
    reused = {key: differences(contents) for key, contents in revisions.items() if len(contents) > 1}
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


def final_states(revisions: dict[tuple[str, int], bytes]) -> dict[str, tuple[str, int]]:
    """Each warning's state as its highest revision gives it: (change, tier)."""
    latest: dict[str, tuple[int, bytes]] = {}
    for (warning_id, revision), value in revisions.items():
        if revision > latest.get(warning_id, (0, b""))[0]:
            latest[warning_id] = (revision, value)
    return {w: (json.loads(v)["change"], json.loads(v)["tier"]) for w, (_, v) in latest.items()}


def assert_same_outcome(crashed: RunOutcome, clean: RunOutcome) -> None:
    """One content per revision; the clean run's warnings, each ending as it did there; the same
    resume points and models."""
    expected = one_content_each(clean)
    got = one_content_each(crashed)
    assert final_states(got) == final_states(expected), "warnings opened, left open or ended otherwise"
    same = sum(got.get(key) == value for key, value in expected.items())
    print(f"\n{same} of {len(expected)} clean-run revisions re-emitted byte for byte; {len(got)} in all")
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
