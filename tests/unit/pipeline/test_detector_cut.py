"""A cut taken under the lock and pickled while the series keep learning writes exactly what a
snapshot taken entirely under the lock at the cut's instant would have written."""

from __future__ import annotations

import pytest

from detectors.ewma import EwmaZScore
from detectors.series import SeriesDetectors
from detectors.state import save_state
from pipeline.state.checkpoint import DetectorCheckpoints
from pipeline.state.detector_cut import DetectorCut
from pipeline.state.state_record import StateRecord

KEY = b"k" * 32
SERIES = [f"c{n % 7}/d{n}/water_level" for n in range(60)]


def kind_of(series: str) -> str:
    return series.rsplit("/", 1)[-1]


def warmed_books() -> tuple[SeriesDetectors, DetectorCheckpoints]:
    """60 warmed series on partitions 0–2, all changed since the last checkpoint, and one key
    with no model (a tombstone)."""
    bank = SeriesDetectors(lambda kind: EwmaZScore(warmup=3))
    books = DetectorCheckpoints(bank, KEY, kind_of)
    for n, series in enumerate(SERIES):
        for value in (1.0, 1.2, 0.9, 1.1 + n / 100):
            bank.observe(series, kind_of(series), value)
        books.touched(series, n % 3)
    books.touched("c9/gone/water_level", 1)
    return bank, books


def test_observes_during_the_cut_leave_its_records_those_of_a_stop_the_world_snapshot() -> None:
    _, stopped = warmed_books()
    snapshot = stopped.take()
    bank, books = warmed_books()
    cut = books.cut()
    records: list[StateRecord] = []
    changed = 0
    while batch := cut.next_records(7):
        records += batch
        for series in SERIES[len(records) - 7 : len(records) + 10]:  # written ones and ones to come
            bank.observe(series, kind_of(series), 50.0)
            bank.observe(series, kind_of(series), 60.0)  # a second change: still the cut's state
            changed += 1
        bank.observe("c9/new/water_level", "water_level", 1.0)  # not in the cut
    cut.close()
    assert changed > len(SERIES)
    assert records == snapshot
    now = {series: bank.get(series) for series in SERIES}
    learned = [r.key for r in records if (m := now.get(r.key)) is not None and save_state(m, KEY) != r.blob]
    assert sorted(learned) == sorted(SERIES), (
        "every model learned after the cut; only the cut kept them as they were"
    )


def test_replaced_and_dropped_models_are_written_as_they_were_at_the_cut() -> None:
    _, stopped = warmed_books()
    snapshot = stopped.take()
    bank, books = warmed_books()
    cut = books.cut()
    first = cut.next_records(5)
    bank.install(SERIES[30], bank.fresh("water_level"))  # a rebaseline
    bank.discard(SERIES[40])  # a revocation
    bank.park(SERIES[50], lambda: None)  # a restore
    rest = cut.next_records(len(SERIES))
    cut.close()
    assert first + rest == snapshot


def test_a_closed_cut_is_told_nothing_and_two_cuts_never_overlap() -> None:
    bank, books = warmed_books()
    cut = books.cut()
    with pytest.raises(RuntimeError, match="another cut"):
        DetectorCut(bank, KEY, [])
    cut.close()
    bank.observe(SERIES[0], "water_level", 3.0)
    books.touched(SERIES[0], 0)
    assert cut.next_records(100) == [], "a closed cut has let go of its models"
    [record] = books.take([0])
    assert record.key == SERIES[0]
