"""Keys made once in the data directory when not configured: the checkpoint key, the ack-link key.

A worker never runs without checkpoints. With ``RISKWATCH_STATE_KEY`` unset it
uses ``<data_dir>/state.key``, creating it (32 random bytes, hex, mode 0600) on
first start, and logs where. Workers that take over each other's partitions
must share one key — set ``RISKWATCH_STATE_KEY`` for a group of workers on
several machines — or they refuse each other's states (counted as ``signature``
in ``riskwatch_restored_states_total``) and re-warm those series.

Acknowledgement links (:mod:`pipeline.notify.signing`) are signed by
``riskwatch notify`` and checked by whichever worker serves ``/ack/…``: both use
``RISKWATCH_NOTIFY_ACK_KEY``, or ``<data_dir>/ack.key`` made the same way, which
only works while they share one machine and data directory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pipeline.config import Settings

KEY_FILE = "state.key"
ACK_KEY_FILE = "ack.key"


def _data_dir_key(path: Path, variable: str, purpose: str, log: Any) -> bytes:
    """The key in ``path``, made now (mode 0600) if missing; logs that ``variable`` is unset."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        log.warning("%s is not set: %s are signed with the key in %s", variable, purpose, path)
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(secrets.token_hex(32))
    log.warning(
        "%s is not set: created %s (mode 0600) to sign %s; processes on several machines need one "
        "key, set %s for them",
        variable,
        path,
        purpose,
        variable,
    )
    return path.read_bytes().strip()


def worker_state_key(settings: Settings, log: Any) -> bytes:
    """The configured key, else the data directory's key file (made now if missing)."""
    if settings.state_key is not None:
        return settings.state_key.get_secret_value().encode()
    return _data_dir_key(Path(settings.data_dir) / KEY_FILE, "RISKWATCH_STATE_KEY", "checkpoints", log)


def ack_link_key(settings: Settings, log: Any) -> bytes:
    """The key of acknowledgement links: configured, else ``<data_dir>/ack.key``."""
    if settings.notify.ack_key is not None:
        return settings.notify.ack_key.get_secret_value().encode()
    path = Path(settings.data_dir) / ACK_KEY_FILE
    return _data_dir_key(path, "RISKWATCH_NOTIFY_ACK_KEY", "acknowledgement links", log)
