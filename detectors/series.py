"""Per-series detector bookkeeping: one model per series, created on first sight.

>>> from detectors.ewma import EwmaZScore
>>> bank = SeriesDetectors(lambda series_kind: EwmaZScore(warmup=2))
>>> bank.observe("c1/d1/water_level", "water_level", 1.0).warming_up
True
>>> len(bank)
1
>>> bank.discard("c1/d1/water_level"); bank.get("c1/d1/water_level") is None
True

A parked series (restored state not yet unpickled) is thawed when first seen:

>>> bank.park("c1/d2/water_level", lambda: EwmaZScore(warmup=2)); len(bank)
1
>>> bank.observe("c1/d2/water_level", "water_level", 1.0).warming_up
True
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from detectors import batch
from detectors.base import Detector, Score


class ChangeWatcher(Protocol):
    """Told of a series just before :meth:`SeriesDetectors.observe` changes its model (a
    checkpoint's cut that has not pickled that model yet pickles it first)."""

    def before_change(self, series_key: str) -> None:
        """``series_key``'s model is about to score and learn a value."""
        ...


class SeriesDetectors:
    """Scores then learns each value with the detector of its series.

    ``factory(series_kind)`` builds a new detector for a series the first time
    it is seen; ``series_kind`` (e.g. a sensor type) selects the defaults.
    """

    def __init__(self, factory: Callable[[str], Detector]) -> None:
        self._factory = factory
        self._detectors: dict[str, Detector] = {}
        self._parked: dict[str, Callable[[], Detector | None]] = {}
        self._watcher: ChangeWatcher | None = None

    def __len__(self) -> int:
        return len(self._detectors) + len(self._parked)

    def series_keys(self) -> list[str]:
        """Every series with a detector, live or parked."""
        return [*self._detectors, *self._parked]

    def detector(self, series_key: str, series_kind: str) -> Detector:
        """The detector of ``series_key``: thawed when parked, created when new."""
        found = self._detectors.get(series_key)
        if found is None:
            found = self._thaw(series_key)
            if found is None:
                found = self._factory(series_kind)
            self._detectors[series_key] = found
        return found

    def park(self, series_key: str, thaw: Callable[[], Detector | None]) -> None:
        """Install ``series_key``'s model later: ``thaw()`` builds it when the series is next seen
        (None: the series starts fresh).

        A worker restoring 100k series verifies every state before it reports ready but
        unpickles each only when its series reads again; unpickling them all took ~8 s.
        """
        self._detectors.pop(series_key, None)
        self._parked[series_key] = thaw

    def _thaw(self, series_key: str) -> Detector | None:
        thaw = self._parked.pop(series_key, None)
        return thaw() if thaw is not None else None

    def observe(
        self,
        series_key: str,
        series_kind: str,
        value: float,
        at: datetime | None = None,
        *,
        warned: bool = False,
    ) -> Score:
        """Score ``value`` against its series, then learn it; return the score.

        ``warned``: the series' hazard has an open warning in its community, so a held
        baseline learns nothing (:class:`~detectors.hold.HeldBaseline`); a model that is not
        held keeps no baseline to protect and learns as always. The step is
        :func:`detectors.batch.observe`: the per-reading result, inlined in the common case.
        """
        if self._watcher is not None:
            self._watcher.before_change(series_key)
        return batch.observe(self.detector(series_key, series_kind), value, at, warned)

    def watch(self, watcher: ChangeWatcher) -> None:
        """Tell ``watcher`` of every series before :meth:`observe` changes its model, until
        :meth:`unwatch`. Models change only there: every other method replaces or drops a
        series' model object and leaves the old object as it was.

        Raises
        ------
        RuntimeError
            If another watcher is watching (one checkpoint cut at a time).
        """
        if self._watcher is not None:
            raise RuntimeError("another cut is already watching this bank; finish it first")
        self._watcher = watcher

    def unwatch(self) -> None:
        """Stop telling the watcher of changes."""
        self._watcher = None

    def warming_up_count(self) -> int:
        """How many series are still warming up (a metric for operators); parked series,
        restored from a checkpoint and not yet seen again, are not counted."""
        return sum(1 for d in self._detectors.values() if d.warming_up)

    def items(self) -> list[tuple[str, Detector]]:
        """(series, detector) of every unpacked series (parked ones are not unpacked)."""
        return list(self._detectors.items())

    def get(self, series_key: str) -> Detector | None:
        """The detector of ``series_key`` if the series has been seen (thawed when parked)."""
        found = self._detectors.get(series_key)
        if found is None and (found := self._thaw(series_key)) is not None:
            self._detectors[series_key] = found
        return found

    def fresh(self, series_kind: str) -> Detector:
        """A new detector configured for ``series_kind``, not attached to any series."""
        return self._factory(series_kind)

    def install(self, series_key: str, detector: Detector) -> None:
        """Make ``detector`` (e.g. restored from a checkpoint) the model of ``series_key``."""
        self._parked.pop(series_key, None)
        self._detectors[series_key] = detector

    def discard(self, series_key: str) -> None:
        """Forget ``series_key`` (its partition moved to another worker)."""
        self._detectors.pop(series_key, None)
        self._parked.pop(series_key, None)
