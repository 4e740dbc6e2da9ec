"""A worker-side stand-in for `executors.execute` that misbehaves on cue, for the tests of a grid
whose cells crash (tests/test_parallel_faults.py). Spawned workers import it by name, so it
lives in a module of its own; every other job runs the real `execute`."""

from __future__ import annotations

import os

from mdlbench.harness import executors
from mdlbench.results.record import Record


def execute(job: executors.Job) -> Record:
    if job.spec == "zlib:level=1":
        raise RuntimeError("a coder's bug: this cell raises")
    if job.spec == "zlib:level=2":
        os._exit(9)  # the worker dies as if killed (a segfault, the OOM killer)
    return executors.execute(job)
