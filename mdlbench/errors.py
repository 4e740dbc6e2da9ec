"""Errors a user can act on. The CLI prints their message on one line and exits with `exit_code`."""

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


class VerificationError(MdlbenchError):
    """A decoder returned something other than the input: a bug in a coder, reported loudly."""

    exit_code = 1
