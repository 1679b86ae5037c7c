"""The key that signs a worker's checkpoints: configured, or made once in the data directory.

A worker never runs without checkpoints. With ``RISKWATCH_STATE_KEY`` unset it
uses ``<data_dir>/state.key``, creating it (32 random bytes, hex, mode 0600) on
first start, and logs where. Workers that take over each other's partitions
must share one key — set ``RISKWATCH_STATE_KEY`` for a group of workers on
several machines — or they refuse each other's states (counted as ``signature``
in ``riskwatch_restored_states_total``) and re-warm those series.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pipeline.config import Settings

KEY_FILE = "state.key"


def worker_state_key(settings: Settings, log: Any) -> bytes:
    """The configured key, else the data directory's key file (made now if missing)."""
    if settings.state_key is not None:
        return settings.state_key.get_secret_value().encode()
    path = Path(settings.data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        log.warning("RISKWATCH_STATE_KEY is not set: checkpoints are signed with the key in %s", path)
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(secrets.token_hex(32))
    log.warning(
        "RISKWATCH_STATE_KEY is not set: created %s (mode 0600) to sign checkpoints; workers that "
        "share partitions need one key, set RISKWATCH_STATE_KEY for them",
        path,
    )
    return path.read_bytes().strip()
