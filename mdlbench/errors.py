"""Errors a user can act on. The CLI prints their message on one line and exits with `exit_code`.

Exit codes: 0 success; 1 a result that is bad news (a failed round trip, a cell that could not
run, a gate regression, an `encode` whose stream does not decode back); 2 bad input or an
environment problem (every `MdlbenchError` below but `VerificationError`); 130 interrupted
(Ctrl-C); 143 terminated (SIGTERM); 141 standard output closed by its reader (quietly); 70 a
bug in mdlbench (an exception that is none of these: one line too, and the traceback with
MDLBENCH_TRACEBACK=1).
"""

from __future__ import annotations


class MdlbenchError(Exception):
    """A problem with the user's input or environment; never a bug in mdlbench."""

    exit_code = 2


class UsageError(MdlbenchError):
    """Bad command line, spec, parameter, dataset name or path."""


class DataError(MdlbenchError):
    """Input data that cannot be read or does not match its manifest."""


class CorruptStreamError(MdlbenchError):
    """A bitstream that is truncated, corrupted, or not produced by mdlbench."""


class ResultsError(MdlbenchError):
    """A results file or baseline that does not parse."""


class OutputError(MdlbenchError):
    """An output that cannot be written where asked (a directory, a special file, a read-only
    folder, a full disk): nothing was written."""


class LimitError(MdlbenchError):
    """Input or parameters beyond a stated limit (size, memory): refused before any work."""


class VerificationError(MdlbenchError):
    """A decoder returned something other than the input: a bug in a coder, reported loudly."""

    exit_code = 1


BUG_EXIT = 70
"""Exit status for an exception that is not an MdlbenchError (BSD's EX_SOFTWARE)."""
INTERRUPTED_EXIT = 130
TERMINATED_EXIT = 143
"""Exit status after SIGTERM (128 + 15), the run stopped as after Ctrl-C."""
