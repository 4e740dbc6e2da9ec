"""What the CLI does, callable from Python: run, compare, gate, encode, decode, catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import datasets as dsmod
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
    "xz:preset=9,extreme=true", "lz4:level=16", "ppmd:order=6,mem=256", "zpaq:level=5",
)
"""The classical line-up of `make demo`: what a user would otherwise reach for."""


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
        overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run every (dataset × compressor) cell; return the records (skipped cells: the stored one).

    Everything is validated before the first cell runs: unknown names, bad parameters and
    unreadable data fail fast. Each finished cell is written at once (atomically), so an
    interrupted grid resumes where it stopped.
    """
    if not datasets:
        raise UsageError("no dataset given")
    if chunk_size is not None and chunk_size < 1:
        raise UsageError(f"--chunk-size must be positive, got {chunk_size}")
    if seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {seeds}")
    comps = [(c, t) for t in compressors for c in create_all([t], **(overrides or {}))]
    if not comps:
        raise UsageError("no compressor given")
    loaded = [dsmod.load(d, labels) for d in datasets]
    layout = Layout(per_file=per_file, chunk_size=chunk_size)
    cells = [(ds, c, s) for ds in loaded for comp, text in comps for c, s in _seeded(comp, seeds, text)]
    reporter = reporter or Reporter()
    root = Path(results_dir) if results_dir is not None else None
    out: list[dict[str, Any]] = []
    with reporter:
        reporter.start(len(cells))
        for ds, comp, seed in cells:
            if root is not None and not force:
                old = store.find(root, skeleton(ds, comp, layout, seed))
                if old is not None and old.get("verified") is not False:
                    out.append(old)
                    reporter.cell_done(f"[dim]skip {comp.spec} on {old['dataset']['label']} "
                                       f"(done: {old['bits']:,} bits; --force re-runs)[/dim]")
                    continue
            rec = run_cell(ds, comp, layout, seed=seed, verify=verify, reporter=reporter)
            if root is not None:
                store.save(root, rec)
            out.append(rec)
            reporter.cell_done(_cell_line(rec))
    return out


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
    except UsageError as e:
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
