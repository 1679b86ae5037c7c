"""``riskwatch evaluate nab|rows OUT``: a replay's output scored against labels.

``nab OUT --labels combined_windows.json`` prints two tables: the
``anomaly_score`` column at the best threshold of each profile (NAB's own
rule, one corpus-wide threshold per profile), and the ``alert`` column at
0.5, which is what the pipeline really emits.

``rows OUT --label COLUMN`` is for data labelled per row (GECCO water
quality): precision, recall and F1 of the ``active`` column against the 0/1
label carried through from the input, warnings opened per day, mean delay
from an event's start to its first warned row, events missed
(:mod:`detectors.evaluation.rows`); one line per file, and the files pooled.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import reduce
from operator import add
from pathlib import Path

from detectors.evaluation.nab import NabReport
from detectors.evaluation.nab_io import evaluate_directory
from detectors.evaluation.replay_io import csv_files, read_warning_state
from detectors.evaluation.rows import RowReport, row_report, rows_table
from pipeline.config import Settings

POOLED = "all files"
"""Name of the line that pools every file of a folder."""


def _as_dict(report: NabReport) -> dict[str, dict[str, float]]:
    return {
        r.profile.name: {"score": r.score, "threshold": r.threshold, "tp": r.tp, "fn": r.fn, "fp": r.fp}
        for r in report.results
    }


def run(settings: Settings, args: argparse.Namespace) -> int:
    """``nab``: print both tables (or JSON); return 1 when the directory holds no labelled file."""
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


def run_rows(settings: Settings, args: argparse.Namespace) -> int:
    """``rows``: print the table (or JSON); return 1 when OUT holds no CSV or a file cannot be scored."""
    files = csv_files(Path(args.out))
    if not files:
        print(f"riskwatch evaluate rows: no CSV file at {args.out}", file=sys.stderr)
        return 1
    reports: dict[str, RowReport] = {}
    for path, key in files:
        try:
            reports[key] = row_report(*read_warning_state(path, args.label))
        except ValueError as error:
            print(f"riskwatch evaluate rows: {error}", file=sys.stderr)
            return 1
    if len(reports) > 1:
        reports[POOLED] = reduce(add, reports.values())
    if args.json:
        print(json.dumps({name: report.figures() for name, report in reports.items()}, indent=2))
    else:
        print(rows_table(reports))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evaluate`` and its ``nab`` and ``rows`` scorings."""
    parser = subparsers.add_parser("evaluate", help="score replay output against labels")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True)
    nab = benchmarks.add_parser("nab", help="NAB scores (three profiles) of a replay output folder")
    nab.add_argument("out", help="folder written by 'riskwatch replay'")
    nab.add_argument("--labels", required=True, help="NAB labels/combined_windows.json")
    nab.add_argument("--json", action="store_true", help="print JSON instead of tables")
    nab.set_defaults(run=run)
    rows = benchmarks.add_parser("rows", help="row-level precision, recall, F1 and warnings/day of 'active'")
    rows.add_argument("out", help="a file or folder written by 'riskwatch replay'")
    rows.add_argument("--label", required=True, help="the 0/1 label column, e.g. 'event'")
    rows.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rows.set_defaults(run=run_rows)
