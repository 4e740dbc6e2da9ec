"""`make bench`: performance figures, measured in one run and written to results/BENCH.md.

Timing targets live here, never in unit tests. The harness section compares a cell run through
mdlbench (encode, decode, verify, record) with calling the codec library directly on the same
≥ 10 MB input; the other sections come from each coder family's own `bench_<area>.bench()`.

    python -m mdlbench.bench                 # everything
    python -m mdlbench.bench harness mix     # chosen sections
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mdlbench

from .datasets import load
from .results.store import atomic_write
from .runner import Layout, run_cell

HARNESS_SPECS = ("zstd:level=3", "zstd:level=12", "bz2:level=9", "brotli:quality=5", "xz:preset=1")


def _interleaved(fns: list, repeat: int) -> list[float]:
    """Best-of-`repeat` times, the candidates interleaved so load drifts hit all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def bench_harness() -> list[dict[str, Any]]:
    """Per-cell overhead of the harness vs the bare library on a 12 MB input (bible × 3)."""
    from .compressors import create

    data = load("bible").data * 3
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bible3.txt"
        path.write_bytes(data)
        ds = load(str(path))
        for spec in HARNESS_SPECS:
            comp = create(spec)

            def direct(comp=comp) -> None:
                comp.decompress(comp.compress(data))

            def harness(comp=comp) -> None:
                run_cell(ds, comp, Layout())

            def end_to_end(spec=spec) -> None:
                mdlbench.run([str(path)], [spec], results_dir=Path(tmp) / "runs", force=True)

            t_direct, t_cell, t_e2e = _interleaved([direct, harness, end_to_end], repeat=5)
            rows.append({
                "section": "harness", "name": spec, "dataset": f"bible x3 ({len(data):,} B)",
                "direct_s": t_direct, "cell_s": t_cell, "end_to_end_s": t_e2e,
                "cell_overhead_pct": 100 * (t_cell - t_direct) / t_direct,
                "end_to_end_overhead_pct": 100 * (t_e2e - t_direct) / t_direct,
                "MBps_direct": len(data) / t_direct / 1e6,
            })
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def sections() -> dict[str, Any]:
    found = {"harness": bench_harness}
    for m in pkgutil.iter_modules(mdlbench.__path__):
        if m.name.startswith("bench_"):
            found[m.name[len("bench_"):]] = m.name
    return found


def _markdown(rows: list[dict[str, Any]]) -> str:
    out = [f"# Benchmarks\n\nMachine: {platform.processor() or platform.machine()}, "
           f"python {platform.python_version()}. Produced by `make bench` "
           f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).\n"]
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r.get("section", "?"), []).append(r)
    for sec, rs in by.items():
        cols = list(dict.fromkeys(k for r in rs for k in r if k != "section"))
        out.append(f"\n## {sec}\n\n| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
        for r in rs:
            cells = []
            for c in cols:
                v = r.get(c, "")
                cells.append(f"{v:,.4g}" if isinstance(v, float) else str(v))
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    avail = sections()
    chosen = argv or list(avail)
    unknown = [c for c in chosen if c not in avail]
    if unknown:
        print(f"unknown bench section {unknown[0]!r} (known: {', '.join(avail)})", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    for name in chosen:
        target = avail[name]
        fn = target if callable(target) else importlib.import_module(f"mdlbench.{target}").bench
        for r in fn():
            rows.append({"section": name, **r})
    out = Path("results")
    try:  # sections not re-run this time keep their last figures
        old = json.loads((out / "bench.json").read_text())
        rows = [r for r in old if r.get("section") not in chosen] + rows
    except (OSError, ValueError):
        pass
    order = list(avail)
    rows.sort(key=lambda r: order.index(r["section"]) if r.get("section") in order else len(order))
    atomic_write(out / "bench.json", json.dumps(rows, indent=2, default=str) + "\n")
    atomic_write(out / "BENCH.md", _markdown(rows))
    print(_markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
