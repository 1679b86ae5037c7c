"""``riskwatch evaluate nab OUT --labels combined_windows.json``: NAB scores of a replay's output.

Two tables: the ``anomaly_score`` column at the best threshold of each
profile (NAB's own rule, one corpus-wide threshold per profile), and the
``alert`` column at 0.5, which is what the pipeline really emits.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from detectors.evaluation.nab import NabReport
from detectors.evaluation.nab_io import evaluate_directory
from pipeline.config import Settings


def _as_dict(report: NabReport) -> dict[str, dict[str, float]]:
    return {
        r.profile.name: {"score": r.score, "threshold": r.threshold, "tp": r.tp, "fn": r.fn, "fp": r.fp}
        for r in report.results
    }


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Print both tables (or JSON); return 1 when the directory holds no labelled file."""
    out, labels = Path(args.out), Path(args.labels)
    try:
        best = evaluate_directory(out, labels)
        emitted = evaluate_directory(out, labels, column="alert", threshold=0.5)
    except (FileNotFoundError, ValueError) as error:
        print(f"riskwatch evaluate nab: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps({"anomaly_score_best_threshold": _as_dict(best), "alert": _as_dict(emitted)}, indent=2)
        )
        return 0
    print("anomaly_score, best threshold per profile")
    print(best.as_table())
    print("\nalert column as emitted (threshold 0.5)")
    print(emitted.as_table())
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evaluate nab``."""
    parser = subparsers.add_parser("evaluate", help="score replay output against labels")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True)
    nab = benchmarks.add_parser("nab", help="NAB scores (three profiles) of a replay output folder")
    nab.add_argument("out", help="folder written by 'riskwatch replay'")
    nab.add_argument("--labels", required=True, help="NAB labels/combined_windows.json")
    nab.add_argument("--json", action="store_true", help="print JSON instead of tables")
    nab.set_defaults(run=run)
