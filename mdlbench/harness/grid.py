"""A grid: groups of datasets × compressors (× seeds) expanded into cells, checked before the first
one runs, each cell either reused from the results folder or run and stored at once.

Checked before the first cell: the grid's size (counted from the spec ranges and seeds, against
limits.MAX_CELLS or `max_cells`, before any spec is built), names, parameters, datasets (all
groups), side information, each coder's input limit and memory estimate, and that the results
folder can be written. After
that, a cell that fails is a record (status failed or error), never the end of the grid; only
the results folder itself failing (a full disk) stops it, with one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import datasets as dsmod
from .. import fileio, limits
from .. import spec as specmod
from ..compressors.base import Compressor
from ..compressors.bounds import check_input
from ..compressors.lookup import REGISTRY, create_all, unfold
from ..datasets import Dataset
from ..errors import LimitError, UsageError
from ..interrupt import stops, watching
from ..results import store
from ..results.record import UNVERIFIED, VERIFIED, Record
from . import executors, measure
from .measure import TimingPolicy
from .progress import Reporter
from .runner import Layout, describe, error_record, identify, run_cell
from .suite import Group


@dataclass(frozen=True)
class Cell:
    text: str
    """The dataset as the user wrote it (workers in other processes load it again)."""
    labels: str | None
    """The label column it was loaded with (`--labels`): a worker loads it the same way, so the
    cell carries it and nothing else has to pass it along beside the cells."""
    dataset: Dataset
    comp: Compressor
    seed: int | None
    layout: Layout


def _seeded(comp: Compressor, seeds: int, spec_text: str) -> list[tuple[Compressor, int | None]]:
    """Stochastic coders run once per seed (unless the spec fixes one); others once."""
    has_seed = any(p.name == "seed" for p in comp.params)
    if not has_seed:
        return [(comp, None)]
    if "seed=" in spec_text or seeds <= 1:
        return [(comp, comp.config["seed"])]
    return [(type(comp)(**{**comp.config, "seed": s}), s) for s in range(seeds)]


def check_group(g: Group) -> None:
    if not g.datasets:
        raise UsageError("no dataset given")
    if not g.compressors:
        raise UsageError("no compressor given")
    if g.chunk_size is not None and g.chunk_size < 1:
        raise UsageError(f"--chunk-size must be positive, got {g.chunk_size}")
    if g.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {g.seeds}")


def size(groups: Sequence[Group]) -> int:
    """How many cells the groups make, from the spec ranges and seed counts alone: nothing is
    built or loaded, so a grid of 10**18 cells is counted as fast as one of ten."""
    total = 0
    for g in groups:
        for text in (t for c in g.compressors for t in unfold(c)):
            cls = REGISTRY.get(specmod.parse(text).name)
            seeded = (cls is not None and any(p.name == "seed" for p in cls.params)
                      and "seed=" not in text)
            total += len(g.datasets) * specmod.count(text) * (g.seeds if seeded else 1)
    return total


def check_size(groups: Sequence[Group], max_cells: int | None = None) -> None:
    """Refuse a grid larger than `max_cells` (limits.MAX_CELLS by default) before any work;
    `--seeds` above it is refused whatever the coders, since no run could use that many."""
    limit = limits.MAX_CELLS if max_cells is None else max_cells
    if limit < 1:
        raise UsageError(f"--max-cells must be at least 1, got {limit}")
    lift = f"--max-cells N (max_cells=N from Python) runs more; the default limit is " \
           f"{limits.MAX_CELLS:,} (mdlbench/limits.py)"
    for g in groups:
        if g.seeds > limit:
            raise LimitError(f"--seeds {g.seeds:,} asks for more cells than the limit of "
                             f"{limit:,}: refused before any work; {lift}")
    n = size(groups)
    if n > limit:
        raise LimitError(f"the grid has {n:,} cells (datasets × compressor specs × seeds, as "
                         f"written: a spec given twice counts twice), more than the limit of "
                         f"{limit:,}: refused before any work; {lift}")


def plan(groups: Sequence[Group], labels: str | None = None,
         overrides: dict[str, Any] | None = None, max_cells: int | None = None) -> list[Cell]:
    """Every cell of the groups, validated: a grid over `max_cells` (counted first), unknown
    names, bad parameters, unreadable data and side information a coder cannot use fail here,
    before anything runs. A cell asked for twice (`-c zstd -c zstd:level=3`: the same
    canonical spec on the same data, layout and seed) runs once."""
    for g in groups:
        check_group(g)
    check_size(groups, max_cells)
    loaded: dict[str, Dataset] = {}
    cells: list[Cell] = []
    seen: set[tuple[Any, ...]] = set()
    for g in groups:
        comps = [(c, t) for t in g.compressors for c in create_all([t], **(overrides or {}))]
        layout = Layout(per_file=g.per_file, chunk_size=g.chunk_size)
        for text in g.datasets:
            if text not in loaded:
                loaded[text] = dsmod.load(text, labels)
            ds = loaded[text]
            unit = _largest_unit(ds, layout)
            what = ds.name if unit == ds.size else f"the largest unit of {ds.name}"
            for comp, spec in comps:
                comp.check_side(ds.labelled)
                check_input(comp, unit, what)
                for c, s in _seeded(comp, g.seeds, spec):
                    same = (layout.label(ds), ds.sha256, c.spec, s)
                    if same not in seen:
                        seen.add(same)
                        cells.append(Cell(text, labels, ds, c, s, layout))
    return cells


def _largest_unit(ds: Dataset, layout: Layout) -> int:
    """Bytes of the largest unit the layout codes at once (without cutting the data)."""
    n = max(len(b) for _, b in ds.parts) if layout.per_file else ds.size
    return min(n, layout.chunk_size) if layout.chunk_size else n


def reusable(old: Record, verify: bool) -> bool:
    """A stored record stands for a new run only if it proves as much as the run would:
    a verifying run reuses verified records only; failed and error cells always run again."""
    return old.status == VERIFIED or (old.status == UNVERIFIED and not verify)


def run_grid(cells: list[Cell], *, root: Path | None, force: bool = False, verify: bool = True,
             timing: TimingPolicy | None = None, jobs: int = 1, executor: str = "local",
             address: str | None = None, reporter: Reporter | None = None) -> list[Record]:
    """Run (or reuse) every cell; return their records in cell order."""
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    if executor not in executors.EXECUTORS:
        raise UsageError(f"unknown executor {executor!r} (known: {', '.join(executors.EXECUTORS)})")
    if root is not None:
        fileio.check_writable_dir(root, "results folder")
    reporter = reporter or Reporter()
    timing = timing or measure.policy()
    results: dict[int, Record] = {}
    with watching(), reporter:
        reporter.start(len(cells))
        todo = []
        for i, c in enumerate(cells):
            ident = identify(c.dataset, c.comp, c.layout, c.seed)
            old = (None if root is None or force else
                   store.find(root, ident.dataset.label, ident.compressor.spec, ident.key))
            if old is not None and reusable(old, verify):
                results[i] = old
                reporter.skipped(old)
            else:
                todo.append(i)

        def finish(i: int, rec: Record) -> None:
            if root is not None:
                store.save(root, rec)
            results[i] = rec
            reporter.cell_done(rec)

        def failed(i: int, e: BaseException) -> Record:
            if stops(e):  # a missing optional package stops the run
                raise e
            c = cells[i]
            return error_record(c.dataset, c.comp, c.layout, c.seed, describe(e, c.comp))

        if executor == "local" and (jobs == 1 or len(todo) <= 1):
            for i in todo:
                c = cells[i]
                try:
                    rec = run_cell(c.dataset, c.comp, c.layout, seed=c.seed, verify=verify,
                                   timing=timing, reporter=reporter)
                except BaseException as e:  # run_cell records a coder's failure; this is the rest
                    if stops(e):
                        raise
                    rec = failed(i, e)
                finish(i, rec)
        else:
            job_of = {}
            for i in todo:
                c = cells[i]
                job = executors.Job(c.text, c.labels, c.comp.spec, c.seed, c.layout.per_file,
                                    c.layout.chunk_size, verify, timing,
                                    gpu=c.comp.config.get("device") == "cuda")
                job_of[job] = i
            loaded = {(cells[i].text, cells[i].labels): cells[i].dataset for i in todo}
            stream = (executors.run_ray(list(job_of), address) if executor == "ray"
                      else executors.run_processes(list(job_of), min(jobs, len(job_of)),
                                                   reporter, executors.ship(loaded)))
            for job, out in stream:
                i = job_of[job]
                finish(i, out if isinstance(out, Record) else failed(i, out))
    return [results[i] for i in range(len(cells))]
