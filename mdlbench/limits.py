"""Stated resource limits, checked before work starts so that too much asks for one clear line
instead of an allocation traceback, a machine that swaps, or a decoder that runs for hours.

- `MAX_INPUT_BYTES`: the largest input mdlbench reads or codes, and the largest length a stream
  header may claim. Every coder holds its input, its stream and the decoded copy in memory, so a
  larger file is refused by its size before a byte of it is read.
- `MAX_UNPACK_BYTES`, `MAX_UNPACK_FILES`: the most a downloaded archive may unpack to, so that
  an archive bomb is refused from its headers (datasets/archive.py).
- `available_memory()`: what a new allocation can get: the kernel's MemAvailable, lowered by a
  cgroup memory limit (containers) and by this process's address-space limit (`ulimit -v`).
- `check_memory(need, what)`: refuse when an estimate of the bytes a job needs (a dataset's
  generator, a coder's model: see their `memory_bytes` hooks) exceeds what is available.
- `MAX_CELLS`: the largest grid a run starts (harness.grid counts it first).
- `no_network()`: within, a coder fetches nothing (decoding a stream: its header, which anyone
  can write, must not buy a download).
"""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from .errors import LimitError

MAX_INPUT_BYTES = 8 << 30
"""8 GiB: eight times enwik9, the largest corpus mdlbench knows."""
JSON_MAX_BYTES = 64 << 20
"""Largest results record, baseline, manifest or suite file read (a record is a few kB)."""
MAX_CELLS = 10_000
"""Most cells (datasets × compressor specs × seeds) one run may ask for unless `--max-cells`
says more: counted from the ranges before a spec is built, so `--seeds 10**18` or
`lstm:hidden=1..1000,streams=1..1000` is one line at once, not hours of work or memory. Ten
thousand covers every sweep in suites/ many times over."""
MAX_UNPACK_BYTES = 4 << 30
"""4 GiB: the most a downloaded archive may unpack to (four times enwik9, the largest corpus);
summed from the archive's headers before anything is written, and counted again while writing."""
MAX_UNPACK_FILES = 100_000
"""The most members a downloaded archive may hold (the corpora have at most 18)."""

_CGROUP = Path("/sys/fs/cgroup")


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available() -> int | None:
    """Room left under a cgroup v2 memory limit, or None when there is none. The cgroup's
    inactive page cache counts as room: the kernel drops it before it refuses memory."""
    try:
        limit = (_CGROUP / "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int((_CGROUP / "memory.current").read_text())
        stat = dict(line.split() for line in (_CGROUP / "memory.stat").read_text().splitlines())
        return max(0, int(limit) - used + int(stat.get("inactive_file", 0)))
    except (OSError, ValueError):
        return None


def _address_space_available() -> int | None:
    """Room left under RLIMIT_AS, or None when it is unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return max(0, soft - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return soft


def available_memory() -> int | None:
    """Bytes a new allocation can get, or None where this cannot be told (not Linux)."""
    known = [v for v in (_meminfo_available(), _cgroup_available(), _address_space_available())
             if v is not None]
    return min(known) if known else None


def size(n: float) -> str:
    """Bytes for a message: 1.5 GiB, 300 MiB, 12,345 B."""
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):,.1f} {unit}"
    return f"{int(n):,} B"


def check_memory(need: int, what: str) -> None:
    """Raise LimitError when `what` needs more memory (an estimate, in bytes) than is
    available now."""
    have = available_memory()
    if have is not None and need > have:
        raise LimitError(f"{what} needs about {size(need)} of memory; {size(have)} is "
                         f"available: refused before allocating")


def check_size(n: int, what: str, limit: int = MAX_INPUT_BYTES) -> None:
    """Raise LimitError when `what`, of n bytes, is over `limit`."""
    if n > limit:
        raise LimitError(f"{what} is {size(n)} ({n:,} B), larger than the limit of "
                         f"{size(limit)}: refused before reading")


NETWORK: ContextVar[bool] = ContextVar("network", default=True)
"""Whether a coder may fetch what it lacks (a hub model); see `no_network`."""


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    token = NETWORK.set(False)
    try:
        yield
    finally:
        NETWORK.reset(token)
