"""Where cells run: inline (with byte-level progress), in local processes (`--jobs N`), or as Ray
tasks (`--executor ray`). Workers only compute; the driver writes each record the moment its
cell finishes, so a killed run loses at most the cells in flight, wherever they ran.

Cells that run side by side share the machine, so their speeds are not a codec's own: each job
carries how many cells ran at once, and the record marks its timing as contended.

Local workers live no longer than their driver: each asks the kernel to kill it when the driver
dies (PR_SET_PDEATHSIG, so a kill -9 of the driver leaves no orphans, and the resource tracker,
whose pipe they hold, then exits too), and ignores Ctrl-C, which is the driver's to handle: the
driver kills its workers and stops with one line (SIGTERM likewise: mdlbench.interrupt), a
worker still starting too (interrupt.held). A cell that raises comes back as its exception, a
coder's own SystemExit or KeyboardInterrupt too (the grid records it as an error cell); a worker
that dies (a crash, the OOM killer) breaks the pool, and its cells are run again one at a time
in a fresh pool, so only the cell that kills its worker is lost.

Local worker processes report each cell's progress to the driver through a queue (see
harness.progress), so -j N shows every running cell; Ray tasks report only when they finish.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import multiprocessing as mp
import os
import pickle
import queue as queuemod
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..interrupt import held, unblock
from ..plugins import Snapshot, restore, snapshot
from ..results.record import Record
from ..stdio import to_stderr
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


SHIP_BYTES = 256 << 20
"""The most dataset bytes a driver hands each local worker as it starts (`ship`); a worker loads
the rest itself, since reading files beats pushing them through a pipe to every worker."""

_SHIPPED: dict[tuple[str, str | None], bytes] = {}
"""In a worker process: the datasets its driver had loaded, pickled, by (text, labels)."""


def ship(loaded: dict[tuple[str, str | None], Any]) -> dict[tuple[str, str | None], bytes]:
    """The driver's loaded datasets by (text, labels), pickled while they fit SHIP_BYTES, for
    its local workers: they then neither load nor checksum them again. One that does not pickle
    (a plugin's field) is left for the worker to load."""
    out, total = {}, 0
    for key, ds in loaded.items():
        if total + ds.size > SHIP_BYTES:
            continue
        try:
            out[key] = pickle.dumps(ds, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            continue
        total += ds.size
    return out


@functools.lru_cache(maxsize=4)
def _dataset(text: str, labels: str | None) -> Any:
    blob = _SHIPPED.pop((text, labels), None)
    if blob is not None:
        with contextlib.suppress(Exception):  # whatever fails here, loading it is the answer
            return pickle.loads(blob)
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

    with to_stderr():  # what a plugin prints: see runner.run_cell
        restore(job.plugins)
        comp = create(job.spec)
    layout = Layout(per_file=job.per_file, chunk_size=job.chunk_size)
    reporter = QueueReporter(_PROGRESS) if _PROGRESS is not None else None
    return run_cell(_dataset(job.dataset, job.labels), comp, layout, seed=job.seed,
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


PR_SET_PDEATHSIG = 1


class WorkerDied(Exception):
    """The worker process running a cell died (killed, crashed, or out of memory)."""


def _worker_init(driver: int, queue: Any, shipped: dict[tuple[str, str | None], bytes]) -> None:
    """In each local worker, first: die with the driver, leave Ctrl-C to it, report progress
    to the driver's queue, keep the datasets it shipped (`ship`), and send what anything prints
    to standard error, at the file descriptor (a C library's writes too): the driver's standard
    output may be JSON."""
    _report_to(queue)
    _SHIPPED.update(shipped)
    with contextlib.suppress(OSError):
        os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    unblock()  # the driver started this process with Ctrl-C and SIGTERM blocked (held)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != driver:  # the driver died before the line above took effect
        os._exit(1)


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: its workers are killed, not waited for (a cell may run for hours)."""
    kill = getattr(pool, "kill_workers", None)  # Python 3.14+
    if kill is not None:
        kill()
    else:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def run_processes(jobs: list[Job], workers: int, reporter: Reporter | None = None,
                  shipped: dict[tuple[str, str | None], bytes] | None = None
                  ) -> Iterator[tuple[Job, Record | BaseException]]:
    """Yield (job, record, or the exception its cell raised: a coder's SystemExit too) as
    cells finish, from `workers` fresh processes that start with the `shipped` datasets, their
    progress going to `reporter` meanwhile; at most `workers` cells are in flight, so when a
    worker dies, the cells that were running are known (see the module docstring)."""
    ctx = mp.get_context("spawn")  # no fork: torch/numba thread pools do not survive it
    reporter = reporter or Reporter()
    progress = ctx.Queue()
    finished: set[str] = set()
    todo, suspects = list(jobs), []
    try:
        yield from _pooled(ctx, todo, suspects, workers, progress, shipped or {}, reporter,
                           finished)
    finally:
        progress.close()
        progress.join_thread()


def _pooled(ctx: Any, todo: list[Job], suspects: list[Job], workers: int, progress: Any,
            shipped: dict[tuple[str, str | None], bytes], reporter: Reporter, finished: set[str]
            ) -> Iterator[tuple[Job, Record | BaseException]]:
    while todo or suspects:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                   initargs=(os.getpid(), progress, shipped))
        running: dict[Future[Record], Job] = {}
        try:
            while todo or suspects or running:
                broken = False
                alone = bool(suspects)  # a suspect of a broken pool runs alone
                while (suspects or todo) and len(running) < (1 if alone else workers):
                    queue = suspects or todo
                    with held():  # a worker may start here: see interrupt.held
                        try:
                            fut = pool.submit(execute, dataclasses.replace(
                                queue[0], cells_at_once=1 if alone else workers))
                        except BrokenProcessPool:
                            broken = True
                            break
                        running[fut] = queue.pop(0)
                if not broken:
                    done, _ = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
                    _relay_all(progress, reporter, finished)
                    broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
                if broken:  # every future ends now: a result, or the break
                    wait(running)
                    done = set(running)
                lost = [running.pop(f) for f in list(done)
                        if isinstance(f.exception(), BrokenProcessPool)]
                for fut in [f for f in done if f in running]:
                    job = running.pop(fut)
                    exc = fut.exception()
                    if exc is None:
                        rec = fut.result()
                        finished.add(label_of(rec))
                        yield job, rec
                    else:
                        yield job, exc
                if broken:
                    if len(lost) == 1:
                        yield lost[0], WorkerDied("the worker process running this cell died "
                                                  "(killed, crashed, or out of memory)")
                    else:
                        suspects += lost
                    break
        finally:
            _kill(pool) if running else pool.shutdown(wait=True)


def run_ray(jobs: list[Job], address: str | None) -> Iterator[tuple[Job, Record | Exception]]:
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
            try:
                out: Record | Exception = ray.get(ref)
            except Exception as e:  # the cell raised in its task: an error cell, not the end
                out = e
            yield job, out
