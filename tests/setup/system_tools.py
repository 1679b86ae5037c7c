"""Find a command-line tool the tests need, installing its Debian package when it is missing.

The install goes through ``tests/setup/system-packages.sh`` (the same script
``make test`` runs), never by hand. A test skips only when the tool truly cannot
be installed here (no ``apt-get``, or neither root nor passwordless sudo); when an
install is possible but fails, the test fails with the script's output.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SETUP_SCRIPT = Path(__file__).resolve().parent / "system-packages.sh"


def _why_not_installable() -> str | None:
    """None when this process can install Debian packages, else the reason it cannot."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available (not a Debian-based machine)"
    if os.geteuid() == 0:
        return None
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return None
    return "installing needs root or passwordless sudo"


@functools.cache
def require_tool(command: str, package: str) -> str:
    """The path of ``command``, installing Debian ``package`` first if it is missing.

    Skips the calling test when the package cannot be installed on this machine;
    fails it when the install was possible but did not work.
    """
    found = shutil.which(command)
    if found:
        return found
    reason = _why_not_installable()
    if reason is not None:
        pytest.skip(
            f"{command} (Debian package {package}) is missing and cannot be installed here: {reason}. "
            f"Run `{SETUP_SCRIPT.relative_to(SETUP_SCRIPT.parents[2])} {package}` as root."
        )
    result = subprocess.run(
        ["bash", str(SETUP_SCRIPT), package],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    found = shutil.which(command)
    if result.returncode != 0 or found is None:
        pytest.fail(
            f"installing {package} for {command} failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return found
