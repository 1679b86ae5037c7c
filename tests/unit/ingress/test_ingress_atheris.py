"""Runs the atheris harness for a bounded number of inputs when atheris is installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).with_name("ingress_atheris_harness.py")
RUNS = 20_000


def test_coverage_guided_fuzzing_finds_no_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed (optional: pip install atheris==3.0.0)")
    from ingress_atheris_harness import SEED

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.json").write_bytes(SEED)
    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            f"-runs={RUNS}",
            "-max_len=4096",
            "-len_control=0",
            "-seed=7",
            f"-artifact_prefix={tmp_path}/",  # a crash input lands here, not in the work tree
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {RUNS} runs" in result.stderr
