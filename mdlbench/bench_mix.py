"""Bits and speed of the `mix` coder against PPMd and ZPAQ on English text, measured in one run.

`bench()` codes the four English texts of Canterbury and bible.txt with `mix` and with the
statistical compressors it must beat (PPMd order 6 and 16, ZPAQ level 5), checks every round
trip, and returns one row per (compressor, file): bits, bpb, and encode/decode speed in KB/s
(wall clock, and CPU time of this process, which is steadier on a shared machine). Run it as
`python -m mdlbench.bench_mix` for a table.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .compressors.base import create

DATA = Path(__file__).resolve().parents[1] / "datasets"
FILES = (
    ("canterbury/alice29.txt", DATA / "canterbury" / "alice29.txt"),
    ("canterbury/asyoulik.txt", DATA / "canterbury" / "asyoulik.txt"),
    ("canterbury/lcet10.txt", DATA / "canterbury" / "lcet10.txt"),
    ("canterbury/plrabn12.txt", DATA / "canterbury" / "plrabn12.txt"),
    ("bible", DATA / "bible" / "bible.txt"),
)
SPECS = ("mix", "ppmd:order=6,mem=256", "ppmd:order=16,mem=256", "zpaq:level=5")


def _timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


def bench(specs: tuple[str, ...] = SPECS,
          files: tuple[tuple[str, Path], ...] = FILES) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for spec in specs:
        comp = create(spec)
        comp.decode(comp.encode(b"warm up the compiled code " * 4).blob)
        for name, path in files:
            data = path.read_bytes()
            load = os.getloadavg()[0]
            enc, tw_e, tc_e = _timed(comp.encode, data)
            out, tw_d, tc_d = _timed(comp.decode, enc.blob)
            kb = len(data) / 1e3
            rows.append({
                "name": spec,
                "dataset": name,
                "bytes": len(data),
                "bits": enc.bits,
                "bits_ideal": enc.bits_ideal,
                "bpb": enc.bits / len(data),
                "enc_KBps": kb / tw_e,
                "dec_KBps": kb / tw_d,
                "enc_KBps_cpu": kb / max(tc_e, 1e-9),
                "dec_KBps_cpu": kb / max(tc_d, 1e-9),
                "verified": out == data,
                "load": load,
            })
    return rows


def main() -> None:
    rows = bench()
    print(f"{'dataset':26s} {'compressor':22s} {'bits':>10s} {'bpb':>7s} "
          f"{'enc KB/s':>9s} {'dec KB/s':>9s} {'enc cpu':>8s} {'dec cpu':>8s} ok  load")
    for r in sorted(rows, key=lambda r: (r["dataset"], r["bits"])):
        print(f"{r['dataset']:26s} {r['name']:22s} {r['bits']:10d} {r['bpb']:7.4f} "
              f"{r['enc_KBps']:9.0f} {r['dec_KBps']:9.0f} {r['enc_KBps_cpu']:8.0f} "
              f"{r['dec_KBps_cpu']:8.0f} {'yes' if r['verified'] else 'NO ':3s} {r['load']:.1f}")


if __name__ == "__main__":
    main()
