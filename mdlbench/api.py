"""What the CLI does, callable from Python: run, compare, gate, encode, decode, catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import datasets as dsmod
from . import executors
from .coding import container
from .compressors.base import REGISTRY, Compressor, create, create_all
from .errors import UsageError
from .results import gate as gatemod
from .results import leaderboard as lb
from .results import store
from .runner import Layout, run_cell, skeleton
from .ui import Reporter

DEFAULT_COMPRESSORS = (
    "zlib:level=9", "bz2:level=9", "zstd:level=19", "brotli:quality=11",
    "xz:preset=9,extreme=true", "lz4:level=16", "ppmd:order=6,mem=256,variant=H", "zpaq:level=5",
)
"""The classical line-up of `make demo`: what a user would otherwise reach for. PPMd runs as
variant H here because pyppmd's variant-I decoder fails on Canterbury's ptt5 (see classical.py)."""


def _seeded(comp: Compressor, seeds: int, spec_text: str) -> list[tuple[Compressor, int | None]]:
    """Stochastic coders run once per seed (unless the spec fixes one); others once."""
    has_seed = any(p.name == "seed" for p in comp.params)
    if not has_seed:
        return [(comp, None)]
    if "seed=" in spec_text or seeds <= 1:
        return [(comp, comp.config["seed"])]
    return [(type(comp)(**{**comp.config, "seed": s}), s) for s in range(seeds)]


def run(datasets: Sequence[str], compressors: Sequence[str] = DEFAULT_COMPRESSORS, *,
        results_dir: Path | str | None = store.DEFAULT_DIR, per_file: bool = False,
        chunk_size: int | None = None, force: bool = False, seeds: int = 1,
        verify: bool = True, reporter: Reporter | None = None, labels: str | None = None,
        overrides: dict[str, Any] | None = None, jobs: int = 1, executor: str = "local",
        address: str | None = None) -> list[dict[str, Any]]:
    """Run every (dataset × compressor × seed) cell; return the records (a finished cell found
    in `results_dir` is skipped and its stored record returned, unless `force`).

    Everything is validated before the first cell runs: unknown names, bad parameters and
    unreadable data fail fast. Each finished cell is written at once (atomically), so an
    interrupted grid resumes where it stopped. `jobs` > 1 runs cells in that many local
    processes; `executor="ray"` runs them as Ray tasks (`address`: "auto", "HOST:PORT", or
    None for a new local cluster).
    """
    if not datasets:
        raise UsageError("no dataset given")
    if chunk_size is not None and chunk_size < 1:
        raise UsageError(f"--chunk-size must be positive, got {chunk_size}")
    if seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {seeds}")
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    if executor not in executors.EXECUTORS:
        raise UsageError(f"unknown executor {executor!r} (known: {', '.join(executors.EXECUTORS)})")
    comps = [(c, t) for t in compressors for c in create_all([t], **(overrides or {}))]
    if not comps:
        raise UsageError("no compressor given")
    loaded = [(d, dsmod.load(d, labels)) for d in datasets]
    layout = Layout(per_file=per_file, chunk_size=chunk_size)
    cells = [(text, ds, c, s) for text, ds in loaded for comp, spec in comps
             for c, s in _seeded(comp, seeds, spec)]
    for _, ds, comp, _ in cells:  # side information a coder needs (labels' inputs): check now
        comp.check_side(ds.labelled)
    reporter = reporter or Reporter()
    root = Path(results_dir) if results_dir is not None else None
    results: dict[int, dict[str, Any]] = {}
    with reporter:
        reporter.start(len(cells))
        todo = []
        for i, (_text, ds, comp, seed) in enumerate(cells):
            old = None if root is None or force else store.find(root, skeleton(ds, comp, layout, seed))
            if old is not None and old.get("verified") is not False:
                results[i] = old
                reporter.cell_done(f"[dim]skip {comp.spec} on {old['dataset']['label']} "
                                   f"(done: {old['bits']:,} bits; --force re-runs)[/dim]")
            else:
                todo.append(i)

        def finish(i: int, rec: dict[str, Any]) -> None:
            if root is not None:
                store.save(root, rec)
            results[i] = rec
            reporter.cell_done(_cell_line(rec))

        if executor == "local" and (jobs == 1 or len(todo) <= 1):
            for i in todo:
                _, ds, comp, seed = cells[i]
                finish(i, run_cell(ds, comp, layout, seed=seed, verify=verify, reporter=reporter))
        else:
            job_of = {}
            for i in todo:
                text, _, comp, seed = cells[i]
                job = executors.Job(text, labels, comp.spec, seed, per_file, chunk_size, verify,
                                    gpu=comp.config.get("device") == "cuda")
                job_of[job] = i
            stream = (executors.run_ray(list(job_of), address) if executor == "ray"
                      else executors.run_processes(list(job_of), min(jobs, len(job_of))))
            for job, rec in stream:
                finish(job_of[job], rec)
    return [results[i] for i in range(len(cells))]


def _cell_line(rec: dict[str, Any]) -> str:
    label, spec = rec["dataset"]["label"], rec["compressor"]["spec"]
    if rec["verified"] is False:
        return f"[bold red]FAILED[/] {spec} on {label}: {rec['error']}"
    speed = f"{rec['encode_MBps']:.2f} MB/s" if rec["encode_MBps"] else ""
    return f"[green]ok[/] {spec} on {label}: {rec['bits']:,} bits, {rec['bpb']:.4f} bpb {speed}"


def compare(results: Sequence[Path | str] = (store.DEFAULT_DIR,), metric: str = "bpb") -> pd.DataFrame:
    """The leaderboard of all records under `results` (see results.leaderboard)."""
    records = store.load_records([Path(p) for p in results])
    if not records:
        raise UsageError(f"no results found in {', '.join(map(str, results))}")
    return lb.leaderboard(records, metric)


def html_report(results: Sequence[Path | str] = (store.DEFAULT_DIR,), metric: str = "bpb") -> str:
    """A self-contained HTML leaderboard with every plot the results support embedded."""
    from .results import html

    records = store.load_records([Path(p) for p in results])
    if not records:
        raise UsageError(f"no results found in {', '.join(map(str, results))}")
    return html.page(records, lb.leaderboard(records, metric), metric)


def plot(results: Sequence[Path | str] = (store.DEFAULT_DIR,), kind: str = "all",
         dataset: str | None = None, out: Path | str = Path("results/plots"),
         fmt: str = "png") -> list[Path]:
    """Write plots (pareto, learning, blocks) of the results as PNG/SVG files; return the paths."""
    from .results import plots

    records = store.load_records([Path(p) for p in results])
    if not records:
        raise UsageError(f"no results found in {', '.join(map(str, results))}")
    if fmt not in ("png", "svg"):
        raise UsageError(f"plot format must be png or svg, got {fmt!r}")
    out = Path(out)
    if kind == "all":
        paths = plots.plot_all(records, out, fmt)
        if not paths:
            raise UsageError("nothing to plot in these results")
        return paths
    fig = plots.make(records, kind, dataset)
    name = kind + ("-" + "".join(c if c.isalnum() else "_" for c in dataset) if dataset else "")
    return [plots.save(fig, out / f"{name}.{fmt}")]


def gate(baseline: Path | str, results: Sequence[Path | str] = (store.DEFAULT_DIR,),
         tolerance: str | float = 0, update: bool = False) -> gatemod.GateReport | dict[str, int]:
    """Check results against a baseline, or (update=True) rewrite the baseline from them."""
    if update:
        return gatemod.write_baseline(Path(baseline), store.load_records([Path(p) for p in results]))
    base = gatemod.load_baseline(Path(baseline))
    return gatemod.gate(base, store.load_records([Path(p) for p in results]), tolerance)


def encode_bytes(spec: str, data: bytes) -> bytes:
    """A self-describing mdlbench stream for `data`; `decode_bytes` needs nothing else."""
    comp = create(spec)
    if comp.self_describing:
        return comp.compress(data)
    return container.wrap(comp.spec, data, comp.compress(data))


def decode_bytes(blob: bytes) -> bytes:
    header, payload = container.unwrap(blob)
    try:
        comp = create(header.spec)
    except UsageError as e:  # the header check passed: a real stream, from another mdlbench
        raise UsageError(f"stream names a compressor this mdlbench cannot build: {e}") from None
    data = comp.decompress(blob) if comp.self_describing else comp.decompress(payload)
    return container.check(header, data)


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
