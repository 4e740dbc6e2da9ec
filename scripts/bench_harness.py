"""The harness's own cost: a cell run through mdlbench against calling the codec directly.

`make bench` runs it after the benchmark suites and appends its Markdown table to
results/BENCH.md. For each codec, on the Bible repeated to --mb megabytes:

- direct: encode then decode through the compressor, nothing else;
- cell: `run_cell` with one repetition (warm-up on 1 KB, encode, decode, compare, record);
- end to end: `mdlbench.run` on the file (read, hash, key, cell, atomic JSON write).

Each figure is the best of --repeat runs, the three interleaved so load drifts hit them alike.

    .venv/bin/python scripts/bench_harness.py [--mb 12] [--repeat 5] [-c SPEC ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mdlbench
from mdlbench.compressors import create
from mdlbench.datasets import load
from mdlbench.harness.measure import TimingPolicy
from mdlbench.harness.runner import run_cell

SPECS = ("zstd:level=3", "zstd:level=12", "bz2:level=9", "brotli:quality=5", "xz:preset=1")
ONCE = TimingPolicy(repeat=1, min_time=0)


def best_of(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=12, help="input size in MB (the Bible repeated)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each; the best is kept")
    ap.add_argument("-c", dest="specs", action="append", help="codec spec (repeatable)")
    a = ap.parse_args()
    bible = load("bible").data
    size = int(a.mb * 1e6)
    data = (bible * (size // len(bible) + 1))[:size]
    print("| codec | input | direct s | cell s | end to end s | cell overhead | end-to-end "
          "overhead | direct MB/s |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bible-repeated.txt"
        path.write_bytes(data)
        ds = load(str(path))
        for spec in a.specs or SPECS:
            comp = create(spec)
            comp.warm_up(data[:1024])

            def direct(comp=comp) -> None:
                comp.decode(comp.encode(data).blob)

            def cell(comp=comp) -> None:
                run_cell(ds, comp, timing=ONCE)

            def end_to_end(spec=spec) -> None:
                mdlbench.run([str(path)], [spec], results_dir=Path(tmp) / "runs", force=True,
                             repeat=1, min_time=0)

            t_direct, t_cell, t_e2e = best_of([direct, cell, end_to_end], a.repeat)
            print(f"| {spec} | {len(data):,} B | {t_direct:.3f} | {t_cell:.3f} | {t_e2e:.3f} | "
                  f"{100 * (t_cell / t_direct - 1):+.1f} % | {100 * (t_e2e / t_direct - 1):+.1f} % "
                  f"| {len(data) / t_direct / 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()
