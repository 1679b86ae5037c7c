"""The revision fence: a replay never gives an emitted (warning id, revision) another content."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.state.revision_fence import RevisionFence


def record(content: str) -> Callable[[int], bytes]:
    """The bytes of a revision with ``content`` under a number."""
    return lambda number: f"{content} as r{number}".encode()


def test_a_replay_that_diverges_is_renumbered_past_what_was_emitted_and_an_identical_one_is_not_resent() -> (
    None
):
    fence = RevisionFence()
    emitted = {1: "opened", 2: "escalated", 3: "de_escalated"}
    for revision, content in emitted.items():
        fence.learn(5, "w1", revision, f"{content} as r{revision}".encode())
    replayed = [(1, "opened"), (2, "escalated differently"), (3, "de_escalated"), (4, "resolved")]
    numbers = [fence.admit("w1", revision, record(content)) for revision, content in replayed]
    assert numbers == [None, 4, 5, 6], "same bytes are not sent again; from the first difference on, past r3"
    assert fence.admit("w2", 1, record("opened")) == 1, "another warning is untouched"


def test_a_partition_given_away_is_forgotten() -> None:
    fence = RevisionFence()
    fence.learn(1, "w1", 1, b"x")
    fence.learn(2, "w2", 1, b"y")
    fence.forget({1})
    assert fence.admit("w1", 1, lambda n: b"other") == 1
    assert fence.admit("w2", 1, lambda n: b"other") == 2
