"""Fixtures of the offline deployment checks: the operators' real tools, installed when missing."""

from __future__ import annotations

import pytest

from tests.setup.system_tools import require_tool


@pytest.fixture(scope="session")
def promtool() -> str:
    """``promtool`` from Debian's ``prometheus`` package."""
    return require_tool("promtool", "prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    """``amtool`` from Debian's ``prometheus-alertmanager`` package."""
    return require_tool("amtool", "prometheus-alertmanager")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """``docker-compose`` 1.29 from Debian: validates compose files without a Docker engine."""
    return require_tool("docker-compose", "docker-compose")
