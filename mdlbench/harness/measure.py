"""Per-cell measurements, the way codec benchmarks take them (lzbench, TurboBench): the coder is
warmed up first (imports, JIT compilation, first allocations), then each direction is repeated
until a minimum measuring time or a repetition count is reached, and the fastest repetition is
the speed; its median and CPU time are kept beside it. Peak resident memory is the cell's own:
Linux lets a process reset its peak-RSS counter (write "5" to /proc/self/clear_refs); elsewhere
it is the process's lifetime maximum from getrusage.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import UsageError

T = TypeVar("T")

REPEAT = 5
MIN_TIME = 0.5
WARM_UP_BYTES = 1024
"""A prefix this long runs every code path once (a neural coder trains a few steps on it)."""


@dataclass(frozen=True)
class TimingPolicy:
    """When to stop repeating: after `repeat` runs, or once `min_time` seconds were measured,
    whichever comes first. The defaults time a 4 MB cell of a codec running at 50 MB/s or faster
    five times in under half a second, and run a coder slower than 0.5 s per pass once."""

    repeat: int = REPEAT
    min_time: float = MIN_TIME
    warm_up_bytes: int = WARM_UP_BYTES

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise UsageError(f"--repeat must be at least 1, got {self.repeat}")
        if not self.min_time >= 0:
            raise UsageError(f"--min-time must not be negative, got {self.min_time}")

    def enough(self, walls: list[float]) -> bool:
        return len(walls) >= self.repeat or sum(walls) >= self.min_time


DEFAULT = TimingPolicy()
"""The policy when a caller names none (read at call time: a test session may set its own)."""


def policy(repeat: int | None = None, min_time: float | None = None) -> TimingPolicy:
    """DEFAULT with the values a caller gave."""
    return TimingPolicy(DEFAULT.repeat if repeat is None else repeat,
                        DEFAULT.min_time if min_time is None else min_time, DEFAULT.warm_up_bytes)


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """fn's result, its wall time and the CPU time this process spent on it (all threads)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


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
