"""CPU seconds and resident memory of a process, from /proc (Linux), to report what the broker costs."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessUsage:
    """Cumulative CPU time and current RSS of one process."""

    cpu_s: float
    rss_bytes: int


def process_usage(pid: int) -> ProcessUsage:
    """Read ``/proc/<pid>`` now."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / ticks
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return ProcessUsage(cpu_s, rss)
