"""Benchmark rows for the label coders (uniform, prequential, two-part) on labelled data:
bits from real streams, ideal bits, compression over the uniform code, and timings.
`bench()` is what `make bench` calls; `python -m mdlbench.bench_labelled` prints the rows."""

from __future__ import annotations

import time
from typing import Any

CELLS = (
    ("digits", "uniform"),
    ("digits", "preq:model=logreg"),
    ("digits", "preq:model=mlp,hidden=128"),
    ("digits", "preq:model=logreg,blocks=voita"),
    ("digits", "twopart:model=logreg"),
    ("digits", "zstd:level=19"),
    ("logistic:n=4000,d=10,k=4", "preq:model=logreg"),
)


def bench() -> list[dict[str, Any]]:
    from . import datasets
    from .compressors.base import create

    rows = []
    for ds_text, spec in CELLS:
        ds = datasets.load(ds_text)
        comp = create(spec)
        t0 = time.perf_counter()
        enc = comp.encode(ds.data, side=ds.labelled)
        t1 = time.perf_counter()
        ok = comp.decode(enc.blob, side=ds.labelled) == ds.data
        t2 = time.perf_counter()
        n = ds.size
        uniform = enc.extras.get("uniform_bits")
        rows.append({
            "name": spec, "dataset": ds.name, "labels": n, "bits": enc.bits,
            "bits_ideal": enc.bits_ideal, "bpb": enc.bits / n,
            "compression": (uniform / enc.bits) if uniform else None,
            "excess_per_label": ((enc.bits - ds.limit_bits) / n
                                 if ds.limit_bits is not None else None),
            "encode_s": t1 - t0, "decode_s": t2 - t1,
            "labels_per_s": n / (t1 - t0), "MB/s": n / (t1 - t0) / 1e6, "verified": ok,
        })
    return rows


if __name__ == "__main__":
    from tabulate import tabulate

    print(tabulate(bench(), headers="keys", floatfmt=".4g"))
