"""``GET /api/devices``: the site and device registry as this worker applies it.

Each worker follows the devices topic whole, so every worker answers with every
registered device; the answer shows what the worker's limits use (an operator
checks here that a ``riskwatch devices set`` has arrived), and how many devices
it reads that the registry does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust

from pipeline.devices.registry import DeviceRegistry


def install_devices(app: faust.App, registry: DeviceRegistry, unregistered: Callable[[], int]) -> None:
    """Register the devices view on ``app``'s web server."""

    @app.page("/api/devices")
    class DevicesView(faust.web.View):
        async def get(self, request: Any) -> Any:
            devices = [entry.model_dump(mode="json") for entry in registry.entries()]
            return self.json({"devices": devices, "unregistered": unregistered()})
