"""Per-cell measurements: wall time and peak resident memory.

Linux lets a process reset its own peak-RSS counter (write "5" to /proc/self/clear_refs), so each
cell's peak is its own, not the process's lifetime maximum. Elsewhere the lifetime maximum from
getrusage is reported and labelled as such in the record.
"""

from __future__ import annotations

import resource
from pathlib import Path


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
