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
from collections.abc import Iterable, Iterator
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

    def community_ids(self) -> list[str]:
        """The communities' ids, in the order of every tick's messages.

        >>> Workload(communities=2, devices=1, ticks=1).community_ids()
        ['bench-c0', 'bench-c1']
        """
        return [f"bench-c{c}" for c in range(self.communities)]

    def messages(self, end: datetime | None = None) -> list[tuple[bytes, bytes]]:
        """``(key, value)`` of every message, ticks one second apart, the last at ``end``."""
        last = end or datetime.now(UTC)
        times = (last - timedelta(seconds=self.ticks - 1 - tick) for tick in range(self.ticks))
        return [message for tick in self.batches(times) for message in tick]

    def batches(self, times: Iterable[datetime], first_tick: int = 0) -> Iterator[list[tuple[bytes, bytes]]]:
        """One tick per time of ``times``, taken lazily (a paced sender can pass the clock): the
        ``(key, value)`` of one message per community, a reading of each of its devices at that
        time. Ticks go on as long as ``times`` does (``ticks`` does not limit them); event ids
        number them from ``first_tick``.

        >>> w = Workload(communities=2, devices=3, ticks=1)
        >>> tick = next(w.batches([datetime(2026, 1, 1, tzinfo=UTC)], first_tick=5))
        >>> [key for key, _ in tick], json.loads(tick[1][1])[2]["event_id"]
        ([b'bench-c0', b'bench-c1'], 'bench-c1-d2-5')
        """
        rng = random.Random(self.seed)
        for tick, when in enumerate(times, start=first_tick):
            at = when.isoformat()
            out = []
            for community in self.community_ids():
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
            yield out


def spike_message(community: str, device: int, at: datetime, value: float = 5.0) -> tuple[bytes, bytes]:
    """Two gauges, devices ``device`` and ``device + 1`` of a warmed community, far above normal
    one second apart: opens a warning for ``community`` at once, because its tier ladder enters
    on 2 of 3 inputs and independent witnesses agreeing need no more time (one gauge would
    have to stay high for a minute: two seconds of one 1 Hz series are a blip)."""
    readings = [
        {
            "kind": "sensor_reading",
            "event_id": f"{community}-spike-{at.timestamp()}-{n}",
            "community_id": community,
            "event_time": (at - timedelta(seconds=1 - n)).isoformat(),
            "device_id": f"d{device + n}",
            "sensor_type": "water_level",
            "value": value,
            "unit": "m",
        }
        for n in range(2)
    ]
    return community.encode(), json.dumps(readings).encode()
