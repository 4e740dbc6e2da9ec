"""Who stops a run: the user (Ctrl-C, SIGTERM), or a coder's own code.

A plugin whose compress() calls sys.exit() or raises KeyboardInterrupt must not end the grid:
the runner turns what coder code raises, BaseExceptions included, into a failed cell. A real
Ctrl-C arrives as KeyboardInterrupt too, so while mdlbench runs, SIGINT goes through `_on_sigint`,
which notes that the user asked before it raises KeyboardInterrupt as Python's own handler does:
a KeyboardInterrupt with no such note came from code. Where mdlbench cannot tell (a caller with
its own Ctrl-C handler, another thread), a KeyboardInterrupt stops the run, as it always did.
SystemExit, GeneratorExit and other BaseExceptions never come from the user: from a coder they
are its failure. Local workers ignore SIGINT (the driver handles it), so there every
KeyboardInterrupt is code's.

SIGTERM raises `Terminated` in the CLI, so `kill PID` ends a run the way Ctrl-C does: workers
killed, queues closed, one line, exit 143 (128 + SIGTERM). While a worker process starts, both
signals wait (`held`): an interrupt in the middle of a start would leave a process its pool
does not know of yet.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGTERM arrived: stop, clean up, exit 143."""


_asked = False
"""A real Ctrl-C arrived since the watch began."""


def _on_sigint(_signum: int, _frame: FrameType | None) -> None:
    global _asked
    _asked = True
    raise KeyboardInterrupt


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def watching(sigterm: bool = False) -> Iterator[None]:
    """Within: a real Ctrl-C is told apart from a KeyboardInterrupt that code raises (where
    Python's default handler was in place), and with `sigterm`, SIGTERM raises Terminated.
    The handlers in place before come back after."""
    global _asked
    if not _main_thread():
        yield
        return
    _asked = False
    old_int = signal.getsignal(signal.SIGINT)
    old_term = signal.getsignal(signal.SIGTERM)
    if old_int is signal.default_int_handler or old_int is _on_sigint:
        signal.signal(signal.SIGINT, _on_sigint)
    if sigterm:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old_int)
        if sigterm:
            signal.signal(signal.SIGTERM, old_term)


_STOPS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Within, Ctrl-C and SIGTERM wait: each is noted and raised again on the way out, where
    the handlers in place before see it. For the instant a worker process is started: stopped
    in the middle, the pool has not yet recorded the process, so nothing kills it, and it dies
    later with a traceback as it reads its half-sent start. Both signals are blocked too, and a
    process started within inherits that, so a terminal's Ctrl-C to the whole group cannot
    interrupt its imports either: the worker unblocks them once it ignores Ctrl-C
    (harness.executors._worker_init)."""
    if not _main_thread():
        yield
        return
    noted: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        noted.append(signum)

    old = {s: h for s in _STOPS if (h := signal.getsignal(s)) not in (None, signal.SIG_IGN)}
    for s in old:
        signal.signal(s, note)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # what was pending is noted now
        for s, handler in old.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(noted):
            signal.raise_signal(s)


def unblock() -> None:
    """In a process started within `held`: take the signals it blocked back."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


def from_user(e: BaseException) -> bool:
    """Whether `e` must stop the run (Ctrl-C or SIGTERM) rather than fail one cell."""
    if isinstance(e, Terminated):
        return True
    if not isinstance(e, KeyboardInterrupt):
        return False
    if _asked:
        return True
    handler = signal.getsignal(signal.SIGINT)
    return handler is not _on_sigint and handler is not signal.SIG_IGN


def stops(e: BaseException) -> bool:
    """Whether `e`, raised while coder code ran, stops the run instead of failing its cell: a
    user's interrupt, or a missing optional package (the CLI then says what to install)."""
    return from_user(e) or isinstance(e, ModuleNotFoundError)
