"""What the CLI does, callable from Python: run, compare (and its other views), plot, gate,
encode, decode, catalogue. The CLI only parses arguments and prints what these return."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import datasets as dsmod
from . import limits
from .coding import container
from .compressors.base import REGISTRY, create
from .errors import CorruptStreamError, UsageError, VerificationError
from .harness import grid, measure
from .harness import suite as suitemod
from .harness.progress import Reporter
from .results import gate as gatemod
from .results import leaderboard as lb
from .results import store
from .results.record import Record

DEFAULT_COMPRESSORS = (
    "zlib:level=9", "bz2:level=9", "zstd:level=19", "brotli:quality=11",
    "xz:preset=9,extreme=true", "lz4:level=16", "ppmd:order=6,mem=256,variant=H", "zpaq:level=5",
)
"""The classical line-up of `make demo`: what a user would otherwise reach for. PPMd runs as
variant H here because pyppmd's variant-I decoder fails on Canterbury's ptt5 (see classical.py)."""

LEADERBOARD_MD = Path("results/LEADERBOARD.md")
LEADERBOARD_HTML = Path("results/leaderboard.html")
PLOTS_DIR = Path("results/plots")

Results = Sequence[Path | str]


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


def run(datasets: Sequence[str] = (), compressors: Sequence[str] | None = None, *,
        suite: Path | str | Sequence[suitemod.Group] | None = None,
        results_dir: Path | str | None = store.DEFAULT_DIR, per_file: bool = False,
        chunk_size: int | None = None, force: bool = False, seeds: int = 1,
        verify: bool = True, reporter: Reporter | None = None, labels: str | None = None,
        overrides: dict[str, Any] | None = None, jobs: int = 1, executor: str = "local",
        address: str | None = None, repeat: int | None = None,
        min_time: float | None = None) -> list[Record]:
    """Run every (dataset × compressor × seed) cell of the datasets and compressors given (the
    classical line-up by default), or of a suite (a TOML file, or a list of Groups); return
    the records. A finished cell found in `results_dir` with the same code and at least the
    same verification is returned as stored, unless `force`.

    Everything is validated before the first cell runs: unknown names, bad parameters and
    unreadable data fail fast. Each finished cell is written at once (atomically), so an
    interrupted grid resumes where it stopped. Each cell is warmed up, then encoded and decoded
    up to `repeat` times (default 5) or until `min_time` seconds (default 0.5) were measured;
    the fastest run is its speed. `jobs` > 1 runs cells in that many local processes, `executor="ray"` as Ray tasks
    (`address`: "auto", "HOST:PORT", or None for a new local cluster); their speeds are then
    marked contended.
    """
    groups = _groups(datasets, compressors, suite, per_file, chunk_size, seeds)
    timing = measure.policy(repeat, min_time)
    cells = grid.plan(groups, labels, overrides)
    root = Path(results_dir) if results_dir is not None else None
    return grid.run_grid(cells, root=root, force=force, verify=verify, timing=timing, jobs=jobs,
                         executor=executor, address=address, labels=labels, reporter=reporter)


def records(results: Results = (store.DEFAULT_DIR,)) -> list[Record]:
    """Every record under the given folders/files (an empty result is a usage error)."""
    recs = store.load_records([Path(p) for p in results])
    if not recs:
        raise UsageError(f"no results found in {', '.join(map(str, results))}")
    return recs


def compare(results: Results = (store.DEFAULT_DIR,), metric: str = "bpb") -> pd.DataFrame:
    """The leaderboard of all records under `results` (see results.leaderboard)."""
    return lb.leaderboard(records(results), metric)


def table(results: Results = (store.DEFAULT_DIR,), view: str = "board",
          metric: str = "bpb") -> pd.DataFrame:
    """One view of the results: board (the leaderboard), parts (bytes per file of --per-file
    runs), cells (everything measured, one row per cell), spread (each RESULTS folder a
    repeated run of the same cells: how far their speeds moved)."""
    if view not in lb.VIEWS:
        raise UsageError(f"unknown view {view!r} (known: {', '.join(lb.VIEWS)})")
    if view == "spread":
        if len(results) < 2:
            raise UsageError("--view spread compares two or more results folders (repeated runs)")
        return lb.spread_table([records([p]) for p in results])
    recs = records(results)
    if view == "parts":
        return lb.parts_table(recs)
    if view == "cells":
        return lb.cells_table(recs)
    return lb.leaderboard(recs, metric)


def report(results: Results = (store.DEFAULT_DIR,), view: str = "board", fmt: str = "md",
           metric: str = "bpb") -> str:
    """A view as text: md, csv, json, or html (for the board, a whole page with the plots)."""
    if fmt == "html" and view == "board":
        return html_report(results, metric)
    return lb.render(table(results, view, metric), fmt)


def report_path(output: Path | str | None, view: str, fmt: str) -> Path | None:
    """Where `compare` writes: the given file, the HTML page's usual place, or None (stdout)."""
    if output is not None:
        return Path(output)
    return LEADERBOARD_HTML if fmt == "html" and view == "board" else None


def write_leaderboard(results: Results = (store.DEFAULT_DIR,), metric: str = "bpb") -> Path:
    """The Markdown leaderboard, written to results/LEADERBOARD.md."""
    text = f"# Leaderboard ({metric})\n\n" + lb.render(compare(results, metric), "md")
    store.atomic_write(LEADERBOARD_MD, text)
    return LEADERBOARD_MD


def html_report(results: Results = (store.DEFAULT_DIR,), metric: str = "bpb") -> str:
    """A self-contained HTML leaderboard with every plot the results support embedded."""
    from .results import html

    recs = records(results)
    return html.page(recs, lb.leaderboard(recs, metric), metric)


def plot(results: Results = (store.DEFAULT_DIR,), kind: str = "all",
         dataset: str | None = None, out: Path | str = PLOTS_DIR,
         fmt: str = "png") -> list[Path]:
    """Write plots (pareto, learning, blocks) of the results as PNG/SVG files; return the paths."""
    from .results import plots

    recs = records(results)
    if fmt not in ("png", "svg"):
        raise UsageError(f"plot format must be png or svg, got {fmt!r}")
    out = Path(out)
    if kind == "all":
        paths = plots.plot_all(recs, out, fmt)
        if not paths:
            raise UsageError("nothing to plot in these results")
        return paths
    if dataset is not None and kind == "pareto":
        dataset = plots.resolve_label(recs, dataset)
    fig = plots.make(recs, kind, dataset)
    name = kind + ("-" + "".join(c if c.isalnum() else "_" for c in dataset) if dataset else "")
    return [plots.save(fig, out / f"{name}.{fmt}")]


def gate(baseline: Path | str, results: Sequence[Path | str] = (store.DEFAULT_DIR,),
         tolerance: str | float = 0, update: bool = False) -> gatemod.GateReport | dict[str, int]:
    """Check results against a baseline, or (update=True) rewrite the baseline from them."""
    if update:
        return gatemod.write_baseline(Path(baseline), store.load_records([Path(p) for p in results]))
    base = gatemod.load_baseline(Path(baseline))
    return gatemod.gate(base, store.load_records([Path(p) for p in results]), tolerance)


def encode_bytes(spec: str, data: bytes, verify: bool = True) -> bytes:
    """A self-describing mdlbench stream for `data`; `decode_bytes` needs nothing else. With
    `verify` (the default) the stream is decoded back through `decode_bytes`, as `mdlbench
    decode` would, and a stream that does not give `data` back is a VerificationError."""
    comp = create(spec)
    comp.check_input(len(data), f"an input of {len(data):,} B")
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
    try:
        comp = create(header.spec)
    except UsageError as e:  # the header check passed: a real stream, from another mdlbench
        raise UsageError(f"stream names a compressor this mdlbench cannot build: {e}") from None
    if comp.self_describing:
        comp.check_length(header.length, len(payload), header.meta)
        limits.check_memory(comp.memory_bytes(header.length),
                            f"decoding {header.length:,} B with {comp.spec}")
        return container.check(header, comp.decompress(blob))
    comp.check_length(header.length, len(payload))
    return container.check(header, comp.decompress_bounded(payload, header.length))


def catalogue() -> dict[str, list[dict[str, Any]]]:
    """What `mdlbench list` shows: compressors with parameters, datasets with provenance."""
    comps = []
    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        comps.append({"name": name, "family": cls.family, "summary": cls.summary,
                      "params": ", ".join(p.describe() for p in cls.params),
                      "version": cls().version()})
    datasets = [dsmod.DATASETS[n]().listing() for n in sorted(dsmod.DATASETS)]
    return {"compressors": comps, "datasets": datasets}
