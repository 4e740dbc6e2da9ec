"""Standard output belongs to mdlbench: `run --format json` writes its records there. Coder
code (a plugin, a dataset's loader, a C library either calls) may print, or write to file
descriptor 1 directly, while it runs; `to_stderr` sends both to standard error for that time,
in the driver (`-j 1`) and in workers alike."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
from collections.abc import Iterator
from typing import Any


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    return ctypes.CDLL(None)


def _flush() -> None:
    """Write out what Python's and C's standard output buffers hold, where fd 1 points now."""
    for stream in {id(s): s for s in (sys.stdout, sys.__stdout__) if s is not None}.values():
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, or no file
            stream.flush()
    with contextlib.suppress(OSError, AttributeError):
        _libc().fflush(None)


@contextlib.contextmanager
def to_stderr() -> Iterator[None]:
    """Within: print() and writes to file descriptor 1 go to standard error; after, standard
    output is what it was. Buffers are flushed on the way in (what was written before stays on
    standard output) and on the way out (what coder code left in them goes to standard error)."""
    _flush()
    try:
        saved: int | None = os.dup(1)
    except OSError:  # file descriptor 1 is closed: print() is all there is to send
        saved = None
    if saved is not None:
        try:
            os.dup2(2, 1)
        except OSError:  # no standard error to send it to: leave standard output alone
            os.close(saved)
            saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            _flush()
            os.dup2(saved, 1)
            os.close(saved)
