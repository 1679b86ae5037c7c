"""What to checkpoint, and restoring it: the pure half of state that survives restarts and rebalances.

Two kinds of state, each in its own compacted topic, each written to the
partition with the same number as the input partition its community arrives
on, so a worker assigned input partition ``p`` finds everything it needs in
partition ``p`` of each state topic:

* detector state per series (signed, versioned envelopes: :mod:`detectors.state`);
* assessment state per community (tier ladders with their dwell timers, open
  episodes, held signals, device faults: JSON, validated on the way back in).

Only keys that changed since the last checkpoint are written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from pydantic import BaseModel, Field, ValidationError

from detectors.base import Detector
from detectors.series import SeriesDetectors
from detectors.state import StateHeader, StateRejected, load_verified_state, verify_state
from pipeline.assess.assessor import DISTRICT_KEY_PREFIX, Assessor
from pipeline.processing.signals import (
    ReportSignals,
    SensorSignals,
    SeriesSignalState,
    TelemetrySignals,
    TelemetryState,
)
from pipeline.state.detector_cut import DetectorCut
from pipeline.state.state_record import StateRecord, TakenCut


class CommunityExtras(BaseModel):
    """The parts of a community's record beside its assessment: its series' signal state, its
    devices' heartbeats and health, and its report rates (``{category: rate state}``)."""

    sensors: SeriesSignalState = Field(default_factory=SeriesSignalState)
    telemetry: TelemetryState = Field(default_factory=TelemetryState)
    reports: dict[str, list[float | None]] = Field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when none of the parts holds anything."""
        return self == CommunityExtras()


EXTRA_FIELDS = frozenset(CommunityExtras.model_fields)


@dataclass
class RestoreReport:
    """What a restore found: how many states were installed, and why others were refused."""

    restored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class DirtyKeys:
    """Which keys changed since the last checkpoint, by input partition.

    >>> dirty = DirtyKeys()
    >>> dirty.touched("c1", 0); dirty.touched("c2", 1)
    >>> dirty.take([1]), dirty.take(None), dirty.take(None)
    ([(1, 'c2')], [(0, 'c1')], [])
    >>> dirty.touch_all([0]); dirty.take(None)
    [(0, 'c1')]
    """

    def __init__(self) -> None:
        self._dirty: dict[int, set[str]] = {}
        self.partition_of: dict[str, int] = {}

    def touched(self, key: str, partition: int) -> None:
        """``key`` (arriving on input ``partition``) changed."""
        self._dirty.setdefault(partition, set()).add(key)
        self.partition_of[key] = partition

    def take(self, partitions: Iterable[int] | None) -> list[tuple[int, str]]:
        """Changed keys of ``partitions`` (or all), oldest partition first; they are clean afterwards."""
        chosen = sorted(self._dirty) if partitions is None else [p for p in partitions if p in self._dirty]
        return [(p, key) for p in chosen for key in sorted(self._dirty.pop(p))]

    def touch_all(self, partitions: Iterable[int]) -> None:
        """Every known key of ``partitions`` changed (the broker lost what was written of them)."""
        chosen = set(partitions)
        for key, partition in self.partition_of.items():
            if partition in chosen:
                self._dirty.setdefault(partition, set()).add(key)

    def forget(self, partitions: Iterable[int]) -> list[str]:
        """Drop every key of ``partitions``; return them."""
        gone = set(partitions)
        keys = [k for k, p in self.partition_of.items() if p in gone]
        for key in keys:
            del self.partition_of[key]
        for partition in gone:
            self._dirty.pop(partition, None)
        return keys


def _thaw(blob: bytes, detector_type: type[Detector]) -> Detector | None:
    """The model in a verified state, or None (the series starts afresh) if its payload is not
    a ``detector_type`` after all: only a code change under the same format version does that."""
    try:
        return load_verified_state(blob, detector_type)
    except StateRejected:
        return None


class DetectorCheckpoints:
    """Detector states of changed series, and their restore."""

    def __init__(self, bank: SeriesDetectors, key: bytes, kind_of: Callable[[str], str]) -> None:
        self.bank = bank
        self._key = key
        self._kind_of = kind_of
        self.dirty = DirtyKeys()

    def touched(self, series: str, partition: int) -> None:
        """``series`` (arriving on input ``partition``) learned something."""
        self.dirty.touched(series, partition)

    def cut(self, partitions: Iterable[int] | None = None) -> DetectorCut:
        """Every changed series (of ``partitions``, or all) as it is now, signed states to be made
        later (:class:`~pipeline.state.detector_cut.DetectorCut`); a tombstone for one that has
        no model (a key set aside by a restore, see :mod:`pipeline.state.checkpoint_generations`)."""
        return DetectorCut(
            self.bank,
            self._key,
            [(p, series, self.bank.get(series)) for p, series in self.dirty.take(partitions)],
        )

    def take(self, partitions: Iterable[int] | None = None) -> list[StateRecord]:
        """The records of :meth:`cut`, all made now."""
        cut = self.cut(partitions)
        try:
            return cut.next_records(len(cut.taken_keys()))
        finally:
            cut.close()

    def restore(self, states: Mapping[str, tuple[int, bytes]]) -> RestoreReport:
        """Install every stored state that is a trustworthy model of the configured detector.

        Signatures and headers are checked now, so the report is final; each model is
        unpickled when its series is next seen (:meth:`SeriesDetectors.park`).
        """
        report = RestoreReport()
        configured: dict[str, tuple[StateHeader, type[Detector]]] = {}
        for series, (partition, blob) in states.items():
            kind = self._kind_of(series)
            if kind not in configured:
                fresh = self.bank.fresh(kind)
                configured[kind] = (StateHeader.of(fresh), type(fresh))
            header, detector_type = configured[kind]
            try:
                verify_state(blob, header, self._key)
            except StateRejected as rejected:
                report.rejected[rejected.reason.value] += 1
                continue
            self.bank.park(series, partial(_thaw, blob, detector_type))
            self.dirty.partition_of[series] = partition
            report.restored += 1
        return report

    def forget(self, partitions: Iterable[int]) -> int:
        """Drop the detectors of revoked ``partitions`` (another worker owns them now)."""
        series = self.dirty.forget(partitions)
        for s in series:
            self.bank.discard(s)
        return len(series)


class AssessmentCheckpoints:
    """Per-community assessment states of changed communities, and their restore.

    A district's roll-up is checkpointed the same way under the key
    ``district:<id>``, on the partition its district records arrive on. A community's
    record also carries the :class:`CommunityExtras` of the signal translators given
    (``sensors``, ``telemetry``, ``reports``); ``adopt(community, partition)`` is told of
    every community restored, so the processor knows its partition again.
    """

    def __init__(
        self,
        assessor: Assessor,
        sensors: SensorSignals | None = None,
        *,
        telemetry: TelemetrySignals | None = None,
        reports: ReportSignals | None = None,
        adopt: Callable[[str, int], None] | None = None,
    ) -> None:
        self.assessor = assessor
        self.sensors = sensors
        self.telemetry = telemetry
        self.reports = reports
        self._adopt = adopt
        self.dirty = DirtyKeys()

    def touched(self, community: str, partition: int) -> None:
        """``community`` (arriving on input ``partition``) may have changed its assessment."""
        self.dirty.touched(community, partition)

    def cut(self, partitions: Iterable[int] | None = None) -> TakenCut:
        """The records of :meth:`take`, made now: a community's JSON is cheap beside a model's pickle."""
        return TakenCut(self.take(partitions))

    def take(self, partitions: Iterable[int] | None = None) -> list[StateRecord]:
        """JSON states of every changed community (a tombstone when it holds nothing any more)."""
        records = []
        extras = self._export_extras()
        for partition, key in self.dirty.take(partitions):
            if key.startswith(DISTRICT_KEY_PREFIX):
                state = self.assessor.export_district(key.removeprefix(DISTRICT_KEY_PREFIX))
            else:
                state = self._community_state(key, extras.get(key))
            blob = None if state is None else json.dumps(state, separators=(",", ":")).encode()
            records.append(StateRecord(partition, key, blob))
        return records

    def _export_extras(self) -> dict[str, CommunityExtras]:
        """Every community's extras, each translator exported in one pass."""
        extras: dict[str, CommunityExtras] = {}
        for community, sensors in (self.sensors.export_by_community() if self.sensors else {}).items():
            extras.setdefault(community, CommunityExtras()).sensors = sensors
        for community, devices in (self.telemetry.export_by_community() if self.telemetry else {}).items():
            extras.setdefault(community, CommunityExtras()).telemetry = devices
        for community, rates in (self.reports.bursts.export_by_community() if self.reports else {}).items():
            extras.setdefault(community, CommunityExtras()).reports = rates
        return extras

    def _community_state(self, community: str, extras: CommunityExtras | None) -> dict[str, object] | None:
        state = self.assessor.export_community(community)
        if extras is None or extras.is_empty():
            return state
        return {**(state or {}), **extras.model_dump(mode="json")}

    def restore(self, states: Mapping[str, tuple[int, bytes]]) -> RestoreReport:
        """Resume every community whose stored state is valid."""
        report = RestoreReport()
        for community, (partition, blob) in states.items():
            try:
                data = json.loads(blob)
                if not isinstance(data, dict):
                    raise ValueError("a community state is a JSON object")
                extras = CommunityExtras.model_validate({f: data.pop(f) for f in EXTRA_FIELDS if f in data})
                self.assessor.import_community(data)
                self._resume_extras(community, partition, extras)
            except (ValueError, ValidationError):
                report.rejected["malformed"] += 1
                continue
            self.dirty.partition_of[community] = partition
            report.restored += 1
        return report

    def _resume_extras(self, community: str, partition: int, extras: CommunityExtras) -> None:
        if community.startswith(DISTRICT_KEY_PREFIX):
            return
        if self.sensors is not None:
            self.sensors.import_community(extras.sensors)
        if self.telemetry is not None:
            self.telemetry.import_community(extras.telemetry, partition)
        if self.reports is not None:
            self.reports.bursts.import_community(community, extras.reports)
        if self._adopt is not None:
            self._adopt(community, partition)

    def forget(self, partitions: Iterable[int]) -> int:
        """Drop the communities of revoked ``partitions``."""
        keys = self.dirty.forget(partitions)
        for key in keys:
            if key.startswith(DISTRICT_KEY_PREFIX):
                self.assessor.forget_district(key.removeprefix(DISTRICT_KEY_PREFIX))
            else:
                self.assessor.forget_community(key)
        communities = {k for k in keys if not k.startswith(DISTRICT_KEY_PREFIX)}
        if self.sensors is not None:
            self.sensors.forget_communities(communities)
        if self.telemetry is not None:
            self.telemetry.forget_communities(communities)
        if self.reports is not None:
            self.reports.bursts.forget_communities(communities)
        return len(keys)
