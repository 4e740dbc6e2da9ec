"""What the CLI does, callable from Python: run, compare (and its other views), results_frame,
plot, html_report, gate, encode, decode, catalogue. The CLI only parses arguments and prints
what these return.

Every function that reads results takes them as folders or record files (default
results/runs), or as the records `run` returned: `compare(run(["iid:n=1000"], ["zstd"]))`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import datasets as dsmod
from . import limits
from . import plugins as pluginmod
from .coding import container
from .compressors import provenance
from .compressors.base import Compressor
from .compressors.bounds import check_input, check_length
from .compressors.lookup import REGISTRY, create
from .datasets import download
from .errors import CorruptStreamError, UsageError, VerificationError
from .harness import grid, measure
from .harness import suite as suitemod
from .harness.progress import Reporter, reporter_for
from .results import leaderboard as lb
from .results import metrics, store
from .results.record import Record

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .results.gate import GateReport

DEFAULT_COMPRESSORS = (
    "zlib:level=9", "bz2:level=9", "zstd:level=19", "brotli:quality=11",
    "xz:preset=9,extreme=true", "lz4:level=16", "ppmd:order=6,mem=256", "zpaq:level=5",
)
"""The classical line-up of `make demo`: what a user would otherwise reach for, each codec as
`-c NAME` gives it (PPMd: its default variant I, which round-trips every shipped file)."""

LEADERBOARD_MD = Path("results/LEADERBOARD.md")
LEADERBOARD_HTML = Path("results/leaderboard.html")
PLOTS_DIR = Path("results/plots")

Results = Path | str | Record | Sequence[Path | str | Record]
"""Results to read: a folder or record file, records from `run`, or a list of either."""


def _groups(datasets: Sequence[str], compressors: Sequence[str] | None,
            suite: Path | str | Sequence[suitemod.Group] | None, per_file: bool,
            chunk_size: int | None, seeds: int) -> list[suitemod.Group]:
    if suite is not None:
        if datasets or compressors:
            raise UsageError("give either a suite or datasets and compressors, not both")
        return suitemod.load(Path(suite)) if isinstance(suite, str | Path) else list(suite)
    if isinstance(datasets, str):
        datasets = [datasets]
    if not datasets:
        raise UsageError("no dataset given (try `mdlbench run canterbury`; `mdlbench list` shows all)")
    return [suitemod.Group(list(datasets), list(compressors or DEFAULT_COMPRESSORS), per_file,
                           chunk_size, seeds)]


@dataclass(frozen=True)
class RunOptions:
    """How `run` runs its cells (every field has the command line's default).

    results_dir: where records are kept (None: nowhere); a finished cell found there with the
    same code and at least the same verification is returned as stored, unless `force`.
    per_file, chunk_size, seeds: how datasets are cut and how many seeds a stochastic coder
    runs (for datasets and compressors given directly; a suite says it per group).
    verify: decode every stream back and compare. labels, overrides: labelled datasets' label
    handling and parameters given to every coder that has them (`{"device": "cuda"}`).
    jobs > 1 runs cells in that many local processes, executor="ray" as Ray tasks (address:
    "auto", "HOST:PORT", or None for a new local cluster); their speeds are marked contended.
    repeat, min_time: each cell is warmed up, then encoded and decoded up to `repeat` times
    (default 5) or until `min_time` seconds (default 0.5) were measured; the fastest run is its
    speed. progress: shown where a person watches unless False (True: anywhere); a `reporter`
    replaces the display. plugins: modules or .py files that register compressors, datasets
    and probes (as `--plugin`); installed entry points and MDLBENCH_PLUGINS load by themselves.
    max_cells: the most cells a grid may have (None: limits.MAX_CELLS).
    """

    results_dir: Path | str | None = store.DEFAULT_DIR
    per_file: bool = False
    chunk_size: int | None = None
    seeds: int = 1
    force: bool = False
    verify: bool = True
    labels: str | None = None
    overrides: dict[str, Any] | None = None
    jobs: int = 1
    executor: str = "local"
    address: str | None = None
    repeat: int | None = None
    min_time: float | None = None
    progress: bool | None = None
    reporter: Reporter | None = None
    plugins: Sequence[str] = ()
    max_cells: int | None = None


def run(datasets: Sequence[str] = (), compressors: Sequence[str] | None = None, *,
        suite: Path | str | Sequence[suitemod.Group] | None = None,
        options: RunOptions | None = None, **fields: Any) -> list[Record]:
    """Run every (dataset × compressor × seed) cell of the datasets and compressors given (the
    classical line-up by default), or of a suite (a TOML file, or a list of Groups); return
    the records. How: `options` (a RunOptions), or its fields as keywords
    (`run(["canterbury"], ["zstd"], jobs=2)`), the keywords replacing the options' fields.

    Everything is validated before the first cell runs: unknown names, bad parameters and
    unreadable data fail fast. Each finished cell is written at once (atomically), so an
    interrupted grid resumes where it stopped. A grid of more than `max_cells` cells
    (limits.MAX_CELLS by default) is refused before anything is built.
    """
    opts = _options(options, fields)
    pluginmod.activate(opts.plugins)
    groups = _groups(datasets, compressors, suite, opts.per_file, opts.chunk_size, opts.seeds)
    timing = measure.policy(opts.repeat, opts.min_time)
    reporter = opts.reporter or reporter_for(opts.progress)
    with download.quiet(not reporter.draws):  # the data is loaded (and fetched) here
        cells = grid.plan(groups, opts.labels, opts.overrides, opts.max_cells)
    root = Path(opts.results_dir) if opts.results_dir is not None else None
    return grid.run_grid(cells, root=root, force=opts.force, verify=opts.verify, timing=timing,
                         jobs=opts.jobs, executor=opts.executor, address=opts.address,
                         reporter=reporter)


def _options(options: RunOptions | None, fields: dict[str, Any]) -> RunOptions:
    known = {f.name for f in dataclasses.fields(RunOptions)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise TypeError(f"run() got an unexpected keyword argument {unknown[0]!r} (options: "
                        f"{', '.join(sorted(known))})")
    return dataclasses.replace(options or RunOptions(), **fields)


def _sources(results: Results) -> list[Path | str | Record]:
    if isinstance(results, str | Path | Record):
        return [results]
    return list(results)


def records(results: Results = store.DEFAULT_DIR, dataset: Sequence[str] | str = (),
            compressor: Sequence[str] | str = ()) -> list[Record]:
    """The records of `results` (folders, record files, or records already in hand), optionally
    only those whose dataset and compressor match the glob patterns given (`markov*`,
    `zstd:*`). Finding none is a usage error."""
    items = _sources(results)
    recs = [r for r in items if isinstance(r, Record)]
    paths = [Path(p) for p in items if not isinstance(p, Record)]
    if paths:
        recs += store.load_records(paths)
    if not recs:
        where = ", ".join(map(str, paths)) or "the records given"
        raise UsageError(f"no results found in {where}")
    if dataset or compressor:
        recs = lb.select(recs, [dataset] if isinstance(dataset, str) else list(dataset),
                         [compressor] if isinstance(compressor, str) else list(compressor))
    return recs


def results_frame(results: Results = store.DEFAULT_DIR) -> pd.DataFrame:
    """A tidy long DataFrame of `results`: one row per cell (its newest record), one column per
    variable (dataset, compressor, seed, status, every metric of results.metrics: bits, bpb, ratio,
    speeds, timing, memory, machine...), ready for pandas, seaborn or a CSV."""
    return lb.frame(records(results))


def table(results: Results = store.DEFAULT_DIR, view: str = "board", metric: str = "bpb", *,
          dataset: Sequence[str] | str = (), compressor: Sequence[str] | str = (),
          sort: str | None = None) -> pd.DataFrame:
    """One view of the results: board (compressors × datasets, by mean rank), dataset (one
    dataset in full: bytes, ratio, bits, speeds, decode/encode, runs, library), parts (bytes per
    file of --per-file runs), cells (everything measured, one row per cell), spread (each
    RESULTS folder a repeated run of the same cells: how far their speeds moved). `dataset` and
    `compressor` keep the matching records (glob patterns); `sort` orders the rows by a column,
    best first."""
    if view not in lb.VIEWS:
        raise UsageError(f"unknown view {view!r} (known: {', '.join(lb.VIEWS)})")
    if view == "spread":
        runs = _sources(results)
        if len(runs) < 2:
            raise UsageError("--view spread compares two or more results folders (repeated runs)")
        out = lb.spread_table([records([p], dataset, compressor) for p in runs])
    else:
        recs = records(results, dataset, compressor)
        if view == "dataset":
            labels = sorted({r.dataset.label for r in recs})
            if len(labels) != 1:
                raise UsageError(f"--view dataset shows one dataset, and {len(labels)} match "
                                 f"(name one with --dataset: {', '.join(labels[:8])}"
                                 f"{', ...' if len(labels) > 8 else ''})")
            full = lb.dataset_table(recs, labels[0])
            out = full.dropna(axis=1, how="all")  # Σ -log2 p of codecs that have no model
            out.attrs = full.attrs
        elif view == "parts":
            out = lb.parts_table(recs)
        elif view == "cells":
            out = lb.cells_table(recs)
        else:
            out = lb.leaderboard(recs, metric)
    return out if sort is None else lb.sort_table(out, sort)


def compare(results: Results = store.DEFAULT_DIR, metric: str = "bpb", *,
            dataset: Sequence[str] | str = (), compressor: Sequence[str] | str = (),
            sort: str | None = None) -> pd.DataFrame:
    """The leaderboard of `results` (folders, record files, or the records `run` returned):
    compressors × datasets of `metric`, with mean speeds; rows by mean rank unless `sort` names
    a column; the source limit on top where there is one."""
    return table(results, "board", metric, dataset=dataset, compressor=compressor, sort=sort)


def report(results: Results = store.DEFAULT_DIR, view: str = "board", fmt: str = "md",
           metric: str = "bpb", *, dataset: Sequence[str] | str = (),
           compressor: Sequence[str] | str = (), sort: str | None = None,
           mean_rank: bool = False) -> str:
    """A view as text: md, csv, json, or html (for the board, the whole report page)."""
    if fmt == "html" and view == "board":
        return html_report(results, metric, dataset=dataset, compressor=compressor,
                           mean_rank=mean_rank)
    return lb.render(table(results, view, metric, dataset=dataset, compressor=compressor,
                           sort=sort), fmt)


def report_path(output: Path | str | None, view: str, fmt: str) -> Path | None:
    """Where `compare` writes: the given file, the HTML page's usual place, or None (stdout)."""
    if output is not None:
        return Path(output)
    return LEADERBOARD_HTML if fmt == "html" and view == "board" else None


def write_leaderboard(results: Results = store.DEFAULT_DIR, metric: str = "bpb") -> Path:
    """The Markdown leaderboard, written to results/LEADERBOARD.md."""
    text = f"# Leaderboard ({metric})\n\n" + lb.render(compare(results, metric), "md")
    store.atomic_write(LEADERBOARD_MD, text)
    return LEADERBOARD_MD


def html_report(results: Results = store.DEFAULT_DIR, metric: str = "bpb", *,
                dataset: Sequence[str] | str = (), compressor: Sequence[str] | str = (),
                mean_rank: bool = False) -> str:
    """A self-contained HTML page: one section per dataset (a sortable table, its plots beside
    it), the timing method, the machines and library versions; `mean_rank` adds a table of
    all datasets by mean rank of `metric`."""
    from .results import html

    metrics.get(metric)
    return html.page(records(results, dataset, compressor), metric, mean_rank)


def plot(results: Results = store.DEFAULT_DIR, kind: str = "pareto",
         dataset: str | None = None, *, x: str = "encode", metric: str = "bpb") -> Figure:
    """One matplotlib Figure: `pareto` (`metric`, bpb by default, vs `x` = encode or
    decode speed; needs `dataset` when the results hold several), `learning` (code length vs
    data seen, for prequential coders) or `blocks` (block-wise MDL on labelled data). A
    notebook shows it; `fig.savefig(...)` writes it."""
    from .results import plots

    recs = records(results)
    if dataset is not None:
        dataset = lb.dataset_label(recs, dataset)
    return plots.make(recs, kind, dataset, x, metric)


def figures(results: Results = store.DEFAULT_DIR, *, x: str = "encode",
            metric: str = "bpb") -> dict[str, Figure]:
    """Every plot the results support (per dataset), as Figures keyed by their file stem."""
    from .results import plots

    return plots.figures(records(results), x=x, metric=metric)


def write_plots(results: Results = store.DEFAULT_DIR, kind: str = "all",
                dataset: str | None = None, out: Path | str = PLOTS_DIR, fmt: str = "png", *,
                x: str = "encode", metric: str = "bpb") -> list[Path]:
    """What `mdlbench plot` does: write plots as PNG/SVG files into `out`; return the paths.
    `kind="all"` writes every plot the results support."""
    from .results import plots

    if fmt not in ("png", "svg"):
        raise UsageError(f"plot format must be png or svg, got {fmt!r}")
    metrics.get(metric)  # a misspelt metric is an error even where no pareto plot is drawn
    recs = records(results)
    if kind == "all":
        if dataset is not None:
            label = lb.dataset_label(recs, dataset)
            recs = [r for r in recs if r.dataset.label == label]
        paths = plots.plot_all(recs, Path(out), fmt, x=x, metric=metric)
        if not paths:
            raise UsageError("nothing to plot in these results")
        return paths
    fig = plot(recs, kind, dataset, x=x, metric=metric)
    labels = sorted({r.dataset.label for r in recs})
    label = (lb.dataset_label(recs, dataset) if dataset is not None
             else labels[0] if kind == "pareto" else None)  # pareto: one dataset's
    return [plots.save(fig, Path(out) / f"{plots.file_stem(kind, label, x, metric)}.{fmt}")]


def gate(baseline: Path | str, results: Sequence[Path | str] = (store.DEFAULT_DIR,),
         tolerance: str | float = 0, update: bool = False) -> GateReport | dict[str, int]:
    """Check results against a baseline, or (update=True) rewrite the baseline from them."""
    from .results import gate as gatemod

    if update:
        return gatemod.write_baseline(Path(baseline), store.load_records([Path(p) for p in results]))
    base = gatemod.load_baseline(Path(baseline))
    return gatemod.gate(base, store.load_records([Path(p) for p in results]), tolerance)


def encode_bytes(spec: str, data: bytes, verify: bool = True) -> bytes:
    """A self-describing mdlbench stream for `data`; `decode_bytes` needs nothing else. With
    `verify` (the default) the stream is decoded back through `decode_bytes`, as `mdlbench
    decode` would, and a stream that does not give `data` back is a VerificationError."""
    pluginmod.activate()
    comp = create(spec)
    check_input(comp, len(data), f"an input of {len(data):,} B")
    blob = comp.compress(data) if comp.self_describing else container.wrap(
        comp.spec, data, comp.compress(data))
    if verify:
        try:
            same = decode_bytes(blob) == data
        except CorruptStreamError as e:
            raise VerificationError(f"{comp.spec} wrote a stream that does not decode back "
                                    f"({e}); nothing written") from None
        if not same:
            raise VerificationError(f"{comp.spec} wrote a stream that decodes to other bytes; "
                                    f"nothing written")
    return blob


def decode_bytes(blob: bytes) -> bytes:
    """The bytes a stream holds. Its header's claims are checked before decoding: the length
    against the sanity limit, the named coder's bound for this payload, and the memory
    available; a classical payload is decoded with its output bounded by that length."""
    header, payload = container.unwrap(blob)
    pluginmod.activate()
    with limits.no_network():  # the header names the coder: it fetches nothing
        try:
            comp = create(header.spec)
        except UsageError as e:  # the header check passed: a real stream, from another mdlbench
            raise UsageError(f"stream names a compressor this mdlbench cannot build: {e}; a "
                             f"plugin's compressor needs its plugin (--plugin)") from None
        if comp.self_describing:
            check_length(comp, header.length, len(payload), header.meta)
            limits.check_memory(comp.memory_bytes(header.length),
                                f"decoding {header.length:,} B with {comp.spec}")
            return container.check(header, comp.decompress(blob))
        check_length(comp, header.length, len(payload))
        return container.check(header, comp.decompress_bounded(payload, header.length))


def catalogue() -> dict[str, list[dict[str, Any]]]:
    """What `mdlbench list` shows: compressors with parameters, datasets with provenance."""
    from .compressors.binding import installed

    pluginmod.activate()
    comps = []
    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        src = pluginmod.origin(cls)
        comps.append({"name": name, "family": cls.family, "summary": cls.summary,
                      "params": ", ".join(p.describe() for p in cls.params),
                      "library": cls.library or "mdlbench", "installed": installed(cls),
                      "version": _version(cls) if installed(cls) else "not installed",
                      "plugin": src and src.get("file", src["module"])})
    datasets = [dsmod.DATASETS[n]().listing() for n in sorted(dsmod.DATASETS)]
    return {"compressors": comps, "datasets": datasets}


def _version(cls: type[Compressor]) -> str:
    """The library version a compressor records; from its class where it cannot be built
    without a parameter (hf: a model)."""
    try:
        return provenance.version(cls())
    except UsageError:  # version() reads only the class: an unconfigured instance will do
        return provenance.version(cls.__new__(cls))
