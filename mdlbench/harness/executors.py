"""Where cells run: inline (with byte-level progress), in local processes (`--jobs N`), or as Ray
tasks (`--executor ray`). Workers only compute; the driver writes each record the moment its
cell finishes, so a killed run loses at most the cells in flight, wherever they ran.

Cells that run side by side share the machine, so their speeds are not a codec's own: each job
carries how many cells ran at once, and the record marks its timing as contended.

Local worker processes report each cell's progress to the driver through a queue (see
harness.progress), so -j N shows every running cell; Ray tasks report only when they finish.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing as mp
import queue as queuemod
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..plugins import Snapshot, restore, snapshot
from ..results.record import Record
from .measure import DEFAULT, TimingPolicy
from .progress import QueueReporter, Reporter, label_of, relay

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to rebuild and run one cell (picklable, text only)."""

    dataset: str
    labels: str | None
    spec: str
    seed: int | None
    per_file: bool
    chunk_size: int | None
    verify: bool
    timing: TimingPolicy = DEFAULT
    cells_at_once: int = 1
    gpu: bool = False
    plugins: Snapshot = field(default_factory=snapshot)
    """The driver's plugin compressors and datasets, taken when the job is made: the worker
    restores them before it rebuilds the cell (mdlbench/plugins.py)."""


@functools.lru_cache(maxsize=4)
def _dataset(text: str, labels: str | None) -> Any:
    from .. import datasets

    return datasets.load(text, labels)


_PROGRESS: Any = None
"""In a worker process: the queue its cells report progress to (set by `_report_to`)."""


def _report_to(queue: Any) -> None:
    global _PROGRESS
    _PROGRESS = queue


def execute(job: Job) -> Record:
    """Run one cell in this process (the worker side of every executor)."""
    from ..compressors import create
    from .runner import Layout, run_cell

    restore(job.plugins)
    layout = Layout(per_file=job.per_file, chunk_size=job.chunk_size)
    reporter = QueueReporter(_PROGRESS) if _PROGRESS is not None else None
    return run_cell(_dataset(job.dataset, job.labels), create(job.spec), layout, seed=job.seed,
                    verify=job.verify, timing=job.timing, cells_at_once=job.cells_at_once,
                    reporter=reporter)


def _relay_all(queue: Any, reporter: Reporter, finished: set[str]) -> None:
    """Show every progress message waiting on the queue (none of a cell already done)."""
    while True:
        try:
            message = queue.get_nowait()
        except queuemod.Empty:
            return
        if message[1] not in finished:
            relay(message, reporter)


def run_processes(jobs: list[Job], workers: int, reporter: Reporter | None = None
                  ) -> Iterator[tuple[Job, Record]]:
    """Yield (job, record) as cells finish, from a pool of `workers` fresh processes; their
    progress goes to `reporter` meanwhile."""
    ctx = mp.get_context("spawn")  # no fork: torch/numba thread pools do not survive it
    reporter = reporter or Reporter()
    progress = ctx.Queue()
    finished: set[str] = set()
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_report_to,
                             initargs=(progress,)) as pool:
        pending = {pool.submit(execute, dataclasses.replace(j, cells_at_once=workers)): j
                   for j in jobs}
        while pending:
            done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            _relay_all(progress, reporter, finished)
            for fut in done:
                job = pending.pop(fut)
                rec = fut.result()
                finished.add(label_of(rec))
                yield job, rec
    progress.close()
    progress.join_thread()


def run_ray(jobs: list[Job], address: str | None) -> Iterator[tuple[Job, Record]]:
    """Yield (job, record) as Ray tasks finish; cells that use CUDA request a GPU."""
    try:
        import ray
    except ImportError:
        raise UsageError("--executor ray needs Ray: pip install 'mdlbench[ray]'") from None
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise UsageError(f"cannot connect to Ray at {address or 'a new local cluster'}: {e}") from None
    # A cluster's cells may share a node: assume they all ran at once (the conservative mark).
    at_once = max(1, min(len(jobs), int(ray.cluster_resources().get("CPU", 1))))
    remote: Callable[..., Any] = ray.remote(execute)
    refs = {remote.options(num_gpus=1 if j.gpu else 0, num_cpus=1)
            .remote(dataclasses.replace(j, cells_at_once=at_once)): j for j in jobs}
    while refs:
        done, _ = ray.wait(list(refs), num_returns=1)
        for ref in done:
            job = refs.pop(ref)
            yield job, ray.get(ref)
