"""A copy-on-write cut of detector states: cheap under the lock, pickled after it.

A checkpoint must write every changed series' model as it stood at one instant, the
instant its resume position is read (under the processing lock), or a restart would
resume from offsets that do not match the models. Pickling and signing 6,000 models
took 0.15–0.6 s, and every reading waited that long while the lock was held.

So under the lock a :class:`DetectorCut` only takes the changed keys and a reference to
each one's model object. The models are pickled afterwards, a slice at a time
(:meth:`DetectorCut.next_records`), while the ingest goes on. The one way a model object
changes is :meth:`~detectors.series.SeriesDetectors.observe`, which tells the cut first
(:meth:`~detectors.series.SeriesDetectors.watch`): a model of the cut not pickled yet is
pickled then, before it learns. Every other change replaces a series' model object
(a restore, a rebaseline) or drops it (a revocation) and leaves the cut's object as it
was. So the records are byte for byte those of a snapshot taken entirely under the lock.
"""

from __future__ import annotations

from detectors.base import Detector
from detectors.series import SeriesDetectors
from detectors.state import save_state
from pipeline.state.state_record import StateRecord


class DetectorCut:
    """The signed states of ``taken`` — (partition, series, its model object, or None for a
    tombstone) — as they are now; watches ``bank`` until :meth:`close`.

    >>> from detectors.ewma import EwmaZScore
    >>> bank = SeriesDetectors(lambda kind: EwmaZScore(warmup=2))
    >>> _ = bank.observe("c1/d1/level", "level", 1.0)
    >>> cut = DetectorCut(bank, b"k" * 32, [(0, "c1/d1/level", bank.get("c1/d1/level"))])
    >>> _ = bank.observe("c1/d1/level", "level", 9.0)   # pickled as it was, then it learns
    >>> [record] = cut.next_records(50); cut.close()
    >>> record.key, len(cut.next_records(50))
    ('c1/d1/level', 0)
    """

    def __init__(
        self, bank: SeriesDetectors, key: bytes, taken: list[tuple[int, str, Detector | None]]
    ) -> None:
        self._bank = bank
        self._key = key
        self._keys = [(partition, series) for partition, series, _ in taken]
        self._next = 0
        self._unsaved = {series: model for _, series, model in taken if model is not None}
        """Models of the cut not pickled yet: the very objects the bank holds (no copy)."""
        self._saved: dict[str, bytes] = {}
        """Models pickled early, because they were about to learn."""
        bank.watch(self)

    def taken_keys(self) -> list[tuple[int, str]]:
        """(partition, series) of every state in the cut, in the order they are written."""
        return list(self._keys)

    def before_change(self, series_key: str) -> None:
        """Pickle ``series_key``'s model now if the cut still needs it as it is."""
        model = self._unsaved.pop(series_key, None)
        if model is not None:
            self._saved[series_key] = save_state(model, self._key)

    def next_records(self, count: int) -> list[StateRecord]:
        """The next ``count`` records of the cut (fewer at its end, none once all are made)."""
        chosen = self._keys[self._next : self._next + count]
        self._next += len(chosen)
        return [StateRecord(partition, series, self._blob(series)) for partition, series in chosen]

    def _blob(self, series: str) -> bytes | None:
        blob = self._saved.pop(series, None)
        if blob is None and (model := self._unsaved.pop(series, None)) is not None:
            blob = save_state(model, self._key)
        return blob

    def close(self) -> None:
        """Stop watching the bank and let go of the models (the cut is written or abandoned)."""
        self._bank.unwatch()
        self._next = len(self._keys)
        self._unsaved.clear()
        self._saved.clear()
