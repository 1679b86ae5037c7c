"""tests/setup/system-packages.sh: the test suite's Debian set-up is a no-op once everything is there."""

from __future__ import annotations

import subprocess

from tests.setup.system_tools import SETUP_SCRIPT


def test_the_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(SETUP_SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_installed_packages_are_left_alone_without_touching_apt(promtool: str, amtool: str) -> None:
    # The fixtures installed them if needed; a second run must do nothing at all (no apt-get update).
    result = subprocess.run(
        ["bash", str(SETUP_SCRIPT), "prometheus", "prometheus-alertmanager"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
