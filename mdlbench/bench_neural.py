"""Speed and bits of the neural coders on a slice of bible: encode/decode KB/s, bpb.

    python -m mdlbench.bench_neural                     # CPU defaults, first 150 KB
    python -m mdlbench.bench_neural --device cuda --kb 4100 --gpu   # GPU line-up, all of bible

`bench()` returns one row per coder (the lead's `make bench` collects them). Every row comes
from a real stream that was decoded back and compared with the input. Besides wall-clock KB/s
the rows give KB per CPU-second of this process (`encode_cpu_KBps`): on a shared machine the
wall clock measures the neighbours too.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

CPU_SPECS = ("lstm", "transformer", "ensemble:of=mix+lstm")
GPU_SPECS = (
    "lstm:hidden=1024,embed=64,streams=256,train_every=32,lr=0.005",
    "transformer:layers=4,dim=256,heads=8,context=128,streams=256,train_every=32,lr=0.001",
    "ensemble:of=mix+lstm,streams=256",
)


def _timed(fn: Any) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def bench(device: str = "cpu", kb: int = 150, specs: tuple[str, ...] | None = None,
          gpu: bool = False) -> list[dict[str, Any]]:
    from .compressors import REGISTRY, create
    from .datasets import load

    data = load("bible").data[: kb * 1000]
    n = len(data)
    rows = []
    for spec in specs or (GPU_SPECS if gpu else CPU_SPECS):
        comp = create(spec, device=device)
        if comp.name == "ensemble" and "mix" in comp.config["of"] and "mix" not in REGISTRY:
            continue
        comp.encode(data[:2000])  # warm-up: imports, numba compilation, allocator
        enc, enc_s, enc_cpu = _timed(lambda c=comp: c.encode(data))
        out, dec_s, dec_cpu = _timed(lambda c=comp, e=enc: c.decode(e.blob))
        row = {
            "name": comp.spec, "dataset": f"bible[:{n}]", "device": device, "bytes": n,
            "bits": enc.bits, "bpb": enc.bits / n, "bits_ideal": enc.bits_ideal,
            "encode_KBps": n / enc_s / 1e3, "decode_KBps": n / dec_s / 1e3,
            "encode_cpu_KBps": n / enc_cpu / 1e3, "decode_cpu_KBps": n / dec_cpu / 1e3,
            "decode/encode": enc_s / dec_s, "verified": out == data,
        }
        if "members" in enc.extras:
            row["members_bpb"] = {k: round(v / n, 4) for k, v in enc.extras["members"].items()}
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    ap.add_argument("--kb", type=int, default=150, help="first KB of bible to code")
    ap.add_argument("--gpu", action="store_true", help="the larger GPU line-up")
    ap.add_argument("--spec", action="append", help="coder spec (repeatable)")
    a = ap.parse_args()
    from tabulate import tabulate

    rows = bench(a.device, a.kb, tuple(a.spec) if a.spec else None, a.gpu)
    print(tabulate(rows, headers="keys", floatfmt=".3f"))


if __name__ == "__main__":
    main()
