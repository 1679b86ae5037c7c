"""``riskwatch replay DATA --out OUT``: the live detector and alerting policy, offline, over CSV files.

Every CSV under DATA (or DATA itself) is one device; each gets a fresh
device model and a fresh copy of the pipeline's assessment, and its scored
copy is written to OUT at the same relative path (see
:mod:`detectors.evaluation.replay_io` for the file rules). Every metric's model
is the one the live worker gives a series of sensor type ``--kind``, built
from the same settings by the same function
(:func:`pipeline.processing.live_detector.live_series_model`), except that a generic file
with several metrics is judged as one device, all metrics together
(:func:`detectors.ensemble.default_device`): the worker has no generic series (a reading carries one of
the product's sensor types). ``alert`` is 1 where the
pipeline would emit a warning (opened or escalated), with the assessment's own
tier cut-offs and resolve delay: nothing is tuned on labels. ``active`` is 1
while that warning is open. ``--train-rows N`` learns the first N rows of each
file without warning, for protocols whose files start with a training prefix.

``--plot`` draws each file with matplotlib, an optional dependency: install
the ``plot`` extra (``pip install 'riskwatch[plot]'``; the ``dev`` extra has it).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from detectors.base import Score
from detectors.ensemble import GENERIC, default_device
from detectors.evaluation.nab_io import load_windows
from detectors.evaluation.replay import PolicyStep, ReplayResult, replay
from detectors.evaluation.replay_io import DeviceTable, csv_files, read_device_table, write_scored_table
from detectors.limits import PhysicalLimits
from pipeline.assess.assessor import Assessor
from pipeline.assess.fusion import sensor_score
from pipeline.clock import ManualClock
from pipeline.config import Settings
from pipeline.processing.live_detector import live_series_model
from pipeline.processing.signals import Gate, SignalGate, sensor_signal, suspected_fault
from schemas.events import CANONICAL_UNITS, SensorReading, SensorType
from schemas.warning import WarningChange, WarningStatus

_EMITTED = (WarningChange.OPENED, WarningChange.ESCALATED)
_OPEN = (WarningStatus.ACTIVE, WarningStatus.ACKNOWLEDGED)
REPLAY_COMMUNITY = "replay"
REPLAY_DEVICE = "replay"
ASSESSED_AS = "water_level"
"""Sensor type a series of a kind the assessment has no hazard for is assessed as."""
PLOT_MISSING = (
    "riskwatch replay: --plot needs matplotlib, which is not installed. Install the plot extra "
    "(pip install 'riskwatch[plot]', or the dev extra), or run without --plot."
)


class AssessmentPolicy:
    """The live pipeline's sensor path after the detector, for one replayed device.

    Each score is turned into a sensor signal as :class:`pipeline.processing.signals.SensorSignals`
    does (:func:`sensor_score` of the surprise, checked against the same limits, built by the
    same :func:`~pipeline.processing.signals.sensor_signal` from the row's value, so the impact axis
    grades a gauge's rise or a reading past its lines as it does live; through the same
    :class:`~pipeline.processing.signals.SignalGate`: forwarded only while it matters, and
    with a suspected-fault finding after a spike that came straight back) and
    folded into a fresh :class:`Assessor` with the configured tier ladder, whose
    clock follows event time. Every reading, dropped ones too, then advances the
    assessment to its event time (:meth:`Assessor.advance`), as the worker does
    for each quiet reading: an open ladder is judged once per reading, so its exit
    dwell (5 minutes *and* 5 inputs) runs on the readings as it does live. Judged
    only on forwarded signals and on a tick after the signal's 10-minute time to
    live, a warning whose readings came back stayed open 13 minutes or more, and
    one weak forwarded reading (too weak to be a witness) restarted the wait:
    on gecco-water 523 of 1,124 false rows were such tails, none of which the
    live path has. ``alert`` is 1 when a warning is opened or escalated; ``tier``
    follows the open warning; ``warned`` says whether the device's hazard is warned,
    so the next row is learned as the worker learns a reading then.
    """

    def __init__(
        self, settings: Settings, series: str, kind: str, model: str, limits: PhysicalLimits | None = None
    ) -> None:
        """``limits``: the type lines and the replayed device's site lines (as the registry gives
        the worker a gauge's), :class:`PhysicalLimits` defaults when not given."""
        config = settings.assessment
        self.signal_type = SensorType(kind if kind in config.fusion.sensor_hazards else ASSESSED_AS)
        self.graded = kind == self.signal_type.value
        """A series of a product sensor type has its unit, so its value is graded on the type's lines;
        any other kind (generic) is assessed as :data:`ASSESSED_AS` with no value to grade."""
        self.limits = limits if limits is not None else PhysicalLimits()
        self.series = series
        self.model = model
        self.clock: ManualClock | None = None
        self.assessor: Assessor | None = None
        self.config = config
        self.hold_while_warned = settings.hold_while_warned
        self._gate = SignalGate()
        self._tier = 0

    def _assessor_at(self, at: datetime) -> Assessor:
        if self.clock is None or self.assessor is None:
            self.clock = ManualClock(at)
            self.assessor = Assessor(self.config, self.clock)
        elif at > self.clock.now():
            self.clock.advance(at - self.clock.now())
        return self.assessor

    def _reading(self, at: datetime, value: float) -> SensorReading:
        """The row as the worker's reading of the device (built only for a forwarded reading)."""
        return SensorReading.model_construct(  # trusted: the file's row, not a producer's event
            kind="sensor_reading",
            event_id=REPLAY_DEVICE,
            community_id=REPLAY_COMMUNITY,
            event_time=at,
            device_id=REPLAY_DEVICE,
            sensor_type=self.signal_type,
            value=value,
            unit=CANONICAL_UNITS[self.signal_type],
        )

    def observe(self, at: datetime, score: Score, values: Mapping[str, float]) -> PolicyStep:
        """Forward the score as the live sensor path would; report what the assessment emits."""
        observed_at = at if at.tzinfo else at.replace(tzinfo=UTC)
        assessor = self._assessor_at(observed_at)
        # a device of several metrics has no one value: its combined score is not graded
        value = next(iter(values.values())) if len(values) == 1 else math.nan
        graded = self.graded and math.isfinite(value)
        breach = graded and self.limits.check(self.signal_type, REPLAY_DEVICE, value) is not None
        strength = sensor_score(score.surprise)
        events = []
        gate = self._gate.step(self.series, strength, breach, observed_at)
        if gate is Gate.FORWARD_SUSPECT:
            events += assessor.observe(suspected_fault(REPLAY_COMMUNITY, REPLAY_DEVICE, observed_at)).events
        if gate is not Gate.DROP:
            signal = sensor_signal(
                self.series,
                self._reading(observed_at, value),
                score,
                strength,
                limits=self.limits,
                limit=breach,
                model=self.model,
                graded=graded,
            )
            events += assessor.observe(signal).events
        if (moved := assessor.advance(REPLAY_COMMUNITY, observed_at)) is not None:
            events += moved.events  # a dropped reading's time lets an open ladder dwell, as in the worker
        for event in events:
            warning = event.warning
            self._tier = warning.tier.value if warning.status in _OPEN else 0
        return PolicyStep(
            alert=any(e.warning.change in _EMITTED for e in events),
            tier=self._tier,
            warned=self.hold_while_warned and assessor.warns_for(REPLAY_COMMUNITY, self.signal_type),
        )


def _series_key(key: str) -> str:
    """A series key the evidence schema accepts, from a relative file path."""
    return "".join(c if c.isalnum() or c in "_.:/-" else "_" for c in key)[:200] or "series"


def _plot(
    path: Path, table: DeviceTable, result: ReplayResult, windows: list[tuple[datetime, datetime]]
) -> None:
    """Write a PNG: each metric, the anomaly score, alerts, and label windows when known."""
    matplotlib: Any = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    pyplot: Any = importlib.import_module("matplotlib.pyplot")
    figure, (top, bottom) = pyplot.subplots(2, 1, sharex=True, figsize=(14, 6))
    for name, values in table.metrics.items():
        top.plot(table.timestamps, values, linewidth=0.7, label=name)
    alerts = [at for at, flag in zip(table.timestamps, result.alert.tolist(), strict=True) if flag]
    for axis in (top, bottom):
        for start, end in windows:
            axis.axvspan(start, end, color="tab:green", alpha=0.15)
        for at in alerts:
            axis.axvline(at, color="tab:red", linewidth=0.8)
    top.legend(loc="upper left")
    bottom.plot(table.timestamps, result.anomaly_score, color="tab:purple", linewidth=0.7)
    bottom.set_ylabel("anomaly_score")
    bottom.set_ylim(0, 1)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Replay every file; print progress on stderr; return 1 when a file could not be read,
    2 when ``--plot`` is asked for without matplotlib."""
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        print(PLOT_MISSING, file=sys.stderr)
        return 2
    data, out = Path(args.data), Path(args.out)
    files = csv_files(data)
    if not files:
        print(f"riskwatch replay: no CSV file at {data}", file=sys.stderr)
        return 1
    ignore = {name.strip() for name in args.ignore_columns.split(",") if name.strip()}
    windows = load_windows(Path(args.labels)) if args.labels else {}
    series_model = live_series_model(settings, args.kind)
    failed = 0
    for number, (path, key) in enumerate(files, 1):
        try:
            table = read_device_table(path, ignore)
        except ValueError as error:
            print(f"\nriskwatch replay: skipped {error}", file=sys.stderr)
            failed += 1
            continue
        total = len(table.timestamps)

        def progress(done: int, number: int = number, key: str = key, total: int = total) -> None:
            filled = 30 * done // max(total, 1)
            bar = "#" * filled + "-" * (30 - filled)
            print(f"\r[{bar}] file {number}/{len(files)} {key} {done}/{total} rows", end="", file=sys.stderr)

        device = default_device(series_model, len(table.metrics))
        policy = AssessmentPolicy(settings, _series_key(key), args.kind, f"{device.kind}/replay")
        result = replay(table.timestamps, table.metrics, device, policy, progress, train_rows=args.train_rows)
        target = out / key
        write_scored_table(target, table, result)
        if args.plot:
            _plot(target.with_suffix(".png"), table, result, windows.get(key, []))
    print(f"\nreplayed {len(files) - failed} file(s) into {out}", file=sys.stderr)
    return 1 if failed else 0


def _row_count(text: str) -> int:
    """A ``--train-rows`` value: a whole number of rows, 0 or more.

    >>> _row_count("1440")
    1440
    """
    if not text.isdecimal():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows (0 or more)")
    return int(text)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``replay``."""
    parser = subparsers.add_parser(
        "replay", help="run the live detector and alert policy offline over CSV files"
    )
    parser.add_argument("data", help="a CSV file or a folder of them (searched recursively)")
    parser.add_argument("--out", required=True, help="folder for the scored copies (mirrors DATA's paths)")
    parser.add_argument(
        "--plot", action="store_true", help="also write a PNG per file (needs the 'plot' extra: matplotlib)"
    )
    parser.add_argument("--ignore-columns", default="", help="comma-separated columns not to score")
    parser.add_argument(
        "--kind",
        default=GENERIC,
        help="sensor type of every metric, which picks the live model (default: generic)",
    )
    parser.add_argument("--labels", default=None, help="NAB-style windows JSON, drawn on the plots")
    parser.add_argument(
        "--train-rows",
        type=_row_count,
        default=0,
        metavar="N",
        help="learn the first N rows of each file without warning (a training prefix; default 0)",
    )
    parser.set_defaults(run=run)
