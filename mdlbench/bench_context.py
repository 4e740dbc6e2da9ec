"""Speed and bits of the `kt` context coders: `bench()` rows for `make bench`.

kt:order=0..3 on a 1 MB slice of bible.txt and on an order-2 Markov source (K = 4, 1e6
symbols): encode and decode KB/s (each timed once after a small warm-up that loads the compiled
kernels), bits, bpb, the overhead of the real stream over its ideal length, and for the Markov
source the limit and the excess over it. Decoding calls constriction once per symbol from
Python, so it is much slower than encoding; the rows say so rather than hide it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .compressors import create

SPECS = [f"kt:order={k}" for k in range(4)]
BIBLE = Path(__file__).resolve().parent.parent / "datasets" / "bible" / "bible.txt"


def _inputs(size: int) -> list[tuple[str, bytes, float | None]]:
    from . import datasets

    out: list[tuple[str, bytes, float | None]] = []
    if BIBLE.exists():
        out.append((f"bible[:{size}]", BIBLE.read_bytes()[:size], None))
    ds = datasets.load(f"markov:order=2,k=4,n={size}")
    out.append((ds.name, ds.data, ds.limit_bits))
    return out


def bench(size: int = 1_000_000, specs: list[str] | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for spec in specs or SPECS:
        comp = create(spec)
        comp.decode(comp.encode(b"warm up the compiled kernels").blob)
        for name, data, limit in _inputs(size):
            t0 = time.perf_counter()
            enc = comp.encode(data)
            t1 = time.perf_counter()
            ok = comp.decode(enc.blob) == data
            t2 = time.perf_counter()
            ideal = enc.bits_ideal or 0.0
            rows.append({
                "name": spec, "dataset": name, "size": len(data), "bits": enc.bits,
                "bits_ideal": round(ideal, 1), "bpb": round(enc.bits / len(data), 4),
                "overhead_pct": round(100 * (enc.bits - ideal) / ideal, 4) if ideal else None,
                "excess_bits": round(enc.bits - limit, 1) if limit is not None else None,
                "regret_bound_bits": (round(enc.extras["regret_bound_bits"], 1)
                                      if "regret_bound_bits" in enc.extras else None),
                "encode_KBps": round(len(data) / (t1 - t0) / 1e3, 1),
                "decode_KBps": round(len(data) / (t2 - t1) / 1e3, 1),
                "verified": ok,
            })
    return rows


if __name__ == "__main__":
    from tabulate import tabulate

    print(tabulate(bench(), headers="keys"))
