"""No RISKWATCH_STATE_KEY: the worker makes one key file (0600) once, says so, and keeps using it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.state.state_key import KEY_FILE, worker_state_key

LOG = logging.getLogger("test-state-key")


def test_a_worker_without_a_configured_key_makes_one_private_key_file_and_reuses_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with caplog.at_level(logging.WARNING):
        first = worker_state_key(settings, LOG)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64 and f"created {path}" in caplog.text
    assert worker_state_key(settings, LOG) == first, "the next start signs with the same key"


def test_a_configured_key_wins_and_writes_no_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", state_key="k" * 32)
    assert worker_state_key(settings, LOG) == b"k" * 32
    assert not (tmp_path / "data").exists()
