"""kill -9, five times, with valid traffic and the default settings: the outcome is the clean run's.

Two runs of one simulated community (readings, telemetry, reports; incidents
that open, escalate and close warnings) on topics of their own: one worker
undisturbed, and one killed with kill -9 at five random moments and restarted
at once each time. Afterwards every (warning id, revision) must mean one
content, and the same content as in the clean run; and the state topics must
hold the same resume point — every input offset, exactly — and the same models
for every partition. The crashed run's input is published live (paced) while
the kills happen; the clean run's all at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.broker import EmbeddedBroker
from pipeline.checkpoint_generations import PartitionFold
from tests.integration.crash_run import (
    CrashRun,
    RunOutcome,
    clean_run,
    killed_run,
    random_moments,
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


def test_five_kills_leave_the_warnings_and_the_state_of_a_clean_run(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    batches = simulated_input()
    data_dir = tmp_path / "data"  # one data directory: both runs sign with the key the first worker makes
    clean = clean_run(CrashRun(broker, tmp_path / "clean", "clean", data_dir), batches)
    crashed_run = CrashRun(broker, tmp_path / "crashed", "crashed", data_dir)
    killed_run(crashed_run, batches, random_moments(seed=17, count=5, low_s=0.5, high_s=12.0), publish_s=40)
    crashed = crashed_run.outcome()

    expected = one_content_each(clean)
    changes = {json.loads(value)["change"] for value in expected.values()}
    assert {"opened", "resolved"} <= changes, f"the input must open and close warnings: {changes}"
    got = one_content_each(crashed)
    assert got.keys() == expected.keys(), (
        f"missing {sorted(expected.keys() - got.keys())}, extra {sorted(got.keys() - expected.keys())}"
    )
    differing = [key for key in expected if got[key] != expected[key]]
    assert not differing, f"revisions whose content differs from the clean run: {differing}"
    for partition, fold in clean.folds.items():
        assert comparable(crashed.folds[partition]) == comparable(fold), f"partition {partition}"
