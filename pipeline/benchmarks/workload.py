"""The benchmark workload: gateway batches of water-level readings, pre-serialised.

Pure and deterministic for a seed, so every phase of a benchmark (baseline,
pipeline, two workers) sees the very same bytes.

>>> w = Workload(communities=2, devices=3, ticks=4)
>>> len(w.messages()), w.readings
(8, 24)
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Workload:
    """``communities`` × ``devices`` series; one message per community per tick holds one
    reading of each of its devices (a gateway batch)."""

    communities: int
    devices: int
    ticks: int
    seed: int = 7

    @property
    def series(self) -> int:
        """Distinct series (community × device × sensor type)."""
        return self.communities * self.devices

    @property
    def readings(self) -> int:
        """Readings over all messages."""
        return self.series * self.ticks

    def messages(self, end: datetime | None = None) -> list[tuple[bytes, bytes]]:
        """``(key, value)`` of every message, ticks one second apart, the last at ``end``."""
        rng = random.Random(self.seed)
        last = end or datetime.now(UTC)
        out = []
        for tick in range(self.ticks):
            at = (last - timedelta(seconds=self.ticks - 1 - tick)).isoformat()
            for c in range(self.communities):
                community = f"bench-c{c}"
                batch = [
                    {
                        "kind": "sensor_reading",
                        "event_id": f"{community}-d{d}-{tick}",
                        "community_id": community,
                        "event_time": at,
                        "device_id": f"d{d}",
                        "sensor_type": "water_level",
                        "value": round(1.0 + rng.gauss(0.0, 0.01), 4),
                        "unit": "m",
                    }
                    for d in range(self.devices)
                ]
                out.append((community.encode(), json.dumps(batch).encode()))
        return out


def spike_message(community: str, device: int, at: datetime, value: float = 5.0) -> tuple[bytes, bytes]:
    """Two readings far above a warmed series' normal, one second apart (the assessment
    ignores a reading no newer than its series' latest): opens a warning for ``community``,
    whose tier ladder enters on 2 of 3 readings."""
    readings = [
        {
            "kind": "sensor_reading",
            "event_id": f"{community}-spike-{at.timestamp()}-{n}",
            "community_id": community,
            "event_time": (at - timedelta(seconds=1 - n)).isoformat(),
            "device_id": f"d{device}",
            "sensor_type": "water_level",
            "value": value,
            "unit": "m",
        }
        for n in range(2)
    ]
    return community.encode(), json.dumps(readings).encode()
