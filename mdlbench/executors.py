"""Where cells run: inline (with byte-level progress), in local processes (`--jobs N`), or as Ray
tasks (`--executor ray`). Workers only compute; the driver writes each record the moment its
cell finishes, so a killed run loses at most the cells in flight, wherever they ran.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from .errors import UsageError

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
    gpu: bool = False


@functools.lru_cache(maxsize=4)
def _dataset(text: str, labels: str | None) -> Any:
    from . import datasets

    return datasets.load(text, labels)


def execute(job: Job) -> dict[str, Any]:
    """Run one cell in this process (the worker side of every executor)."""
    from .compressors import create
    from .runner import Layout, run_cell

    comp = create(job.spec)
    layout = Layout(per_file=job.per_file, chunk_size=job.chunk_size)
    return run_cell(_dataset(job.dataset, job.labels), comp, layout, seed=job.seed,
                    verify=job.verify)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_processes(jobs: list[Job], workers: int) -> Iterator[tuple[Job, dict[str, Any]]]:
    """Yield (job, record) as cells finish, from a pool of `workers` fresh processes."""
    ctx = mp.get_context("spawn")  # no fork: torch/numba thread pools do not survive it
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending = {pool.submit(execute, j): j for j in jobs}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                job = pending.pop(fut)
                yield job, fut.result()


def run_ray(jobs: list[Job], address: str | None) -> Iterator[tuple[Job, dict[str, Any]]]:
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
    remote: Callable[..., Any] = ray.remote(execute)
    refs = {remote.options(num_gpus=1 if j.gpu else 0, num_cpus=1).remote(j): j for j in jobs}
    while refs:
        done, _ = ray.wait(list(refs), num_returns=1)
        for ref in done:
            job = refs.pop(ref)
            yield job, ray.get(ref)
