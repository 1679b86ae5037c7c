"""Folding state topic partitions to their newest complete checkpoint generation."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.state.checkpoint_generations import CheckpointMarker, StoredRecord, fold_partition, marker_key


def marker(generation: int, readings: int) -> StoredRecord:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    value = CheckpointMarker(
        generation=generation, resume_at={"readings": readings}, stream_times={"readings": at}
    )
    return (marker_key(3), value.encode())


def test_records_after_the_last_marker_are_set_aside_and_the_marker_says_where_to_resume() -> None:
    fold = fold_partition(
        {
            "detector": [("a", b"a1"), ("b", b"b1"), marker(1, 10), ("a", b"a2"), ("c", b"c2")],
            "assessment": [("c1", b"x1"), marker(1, 10), ("c1", b"x2")],
        }
    )
    assert fold.marker is not None and fold.marker.resume_at == {"readings": 10}
    assert fold.states == {"detector": {"a": b"a1", "b": b"b1"}, "assessment": {"c1": b"x1"}}
    assert fold.discarded == {"detector": {"a", "c"}, "assessment": {"c1"}}
    assert fold.newest_generation == 1


def test_a_generation_missing_from_one_topic_is_not_complete() -> None:
    """The writer died between the two topics' markers of generation 2: generation 1 holds."""
    fold = fold_partition(
        {
            "detector": [("a", b"a1"), marker(1, 10), ("a", b"a2"), marker(2, 20)],
            "assessment": [("c1", b"x1"), marker(1, 10), ("c1", b"x2")],
        }
    )
    assert fold.marker is not None and fold.marker.generation == 1
    assert fold.states["detector"] == {"a": b"a1"}
    assert fold.discarded == {"detector": {"a"}, "assessment": {"c1"}}
    assert fold.newest_generation == 2, "the next writer numbers its generations above every one seen"


def test_tombstones_delete_and_no_marker_means_empty_state_from_the_beginning() -> None:
    complete = fold_partition({"detector": [("a", b"a1"), ("a", None), ("b", b"b1"), marker(4, 7)]})
    assert complete.states["detector"] == {"b": b"b1"}
    never = fold_partition({"detector": [("a", b"a1")], "assessment": []})
    assert never.marker is None
    assert never.states == {"detector": {}, "assessment": {}}
    assert never.discarded["detector"] == {"a"}


def test_a_generation_written_again_after_a_takeover_is_cut_at_its_last_marker() -> None:
    """A new owner rewrites the keys the dead writer left half-done, then marks its own generation."""
    fold = fold_partition(
        {
            "detector": [("a", b"a1"), marker(1, 10), ("a", b"dead"), ("a", b"a1"), marker(2, 12)],
            "assessment": [marker(1, 10), marker(2, 12)],
        }
    )
    assert fold.marker is not None and fold.marker.resume_at == {"readings": 12}
    assert fold.states["detector"] == {"a": b"a1"}
    assert fold.discarded == {"detector": set(), "assessment": set()}


def test_an_unreadable_marker_is_counted_not_trusted() -> None:
    fold = fold_partition({"detector": [("a", b"a1"), (marker_key(3), b"{not json")]})
    assert fold.marker is None and fold.unreadable_markers == 1
