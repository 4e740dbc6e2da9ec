"""The neural loop's overhead: a TorchCoder's encode against plain training of its network.

For each coder, on the same data, in one process run (interleaved, so load drifts hit both
alike), it times:

- encode: `coder.encode(data)`, the real stream (container, coding, learning curve);
- plain: the same network (built from the same spec and seed) and optimiser run over the same
  B-stream layout with no coding at all: per step the step-path forward under no_grad (logits
  only), every T steps one optimiser step on the segment (and the model's `refresh()` after
  it, if it has one), exactly as the coder trains.

and prints encode ÷ plain (median of --repeat pairs): what the coder costs beyond the training it
cannot avoid. The ratio is of CPU time (time.process_time; torch runs on one thread here), which
a shared machine's load disturbs far less than wall time; wall times are printed beside it. `make bench` appends its table to results/BENCH.md.

    .venv/bin/python scripts/loop_ratio.py [--data bible:head=100000] [--repeat 3] [-c SPEC ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from mdlbench import plugins
from mdlbench.coding.streams import layout
from mdlbench.compressors import create
from mdlbench.compressors.model import alphabet_of
from mdlbench.datasets import load
from mdlbench.models import runtime

GRU = Path(__file__).resolve().parent.parent / "examples" / "gru_coder.py"
SPECS = ("lstm", "transformer", "gru")


def stream_symbols(data: bytes, streams: int) -> torch.Tensor:
    """(q + 1, B) int64: the start symbol, then the full steps of the B-stream layout (the
    first r streams are one byte longer: their last byte is the ragged step's)."""
    b, q, r = layout(len(data), streams)
    starts = np.arange(b) * q + np.minimum(np.arange(b), r)
    sym = np.frombuffer(data, dtype=np.uint8)[starts[None, :] + np.arange(q)[:, None]]
    start = np.full((1, b), alphabet_of(data))
    return torch.from_numpy(np.concatenate([start, sym]).astype(np.int64))


def plain(coder: Any, data: bytes) -> Any:
    """Step forward and training of `coder`'s network over `data`'s layout, nothing else;
    returns the trained network (the coder's, weight for weight: tests/test_loop_ratio.py)."""
    c = coder.config
    k = alphabet_of(data)
    sym = stream_symbols(data, c["streams"])
    steps, b = sym.shape[0] - 1, sym.shape[1]
    t_seg, window = c["train_every"], coder.context()
    with runtime.deterministic(c["threads"]):
        with runtime.seeded(c["seed"]):
            net = coder.build(k)
        opt = coder.optimizer(net.parameters())
        step, refresh = getattr(net, "step", None), getattr(net, "refresh", None)
        if window is None:
            init = getattr(net, "initial_state", None)
            state = init(b, torch.device("cpu")) if init is not None else None
        else:
            cache = net.new_cache(b, torch.device("cpu"))
            keep = min(t_seg, window - 1)
        for t0 in range(0, steps, t_seg):
            t1 = min(steps, t0 + t_seg)
            seg_state = state if window is None else None
            with torch.no_grad():
                for t in range(t0, t1):
                    if window is not None:
                        net.step(sym[t], cache)
                    elif step is not None:
                        _, state = step(sym[t], state)
                    else:
                        _, state = net(sym[t:t + 1], state)
            if t1 - t0 < t_seg:
                break
            if window is None:
                logits, _ = net(sym[t0:t1], seg_state)
                target = sym[t0 + 1:t1 + 1]
            else:
                seq = sym[max(0, t0 - keep):t1 + 1].T
                logits = net(seq[:, :-1])[:, -t_seg:]
                target = seq[:, -t_seg:]
            loss = F.cross_entropy(logits.reshape(-1, k), target.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if refresh is not None:
                refresh()
    return net


def timed(fn: Any) -> tuple[float, float]:
    """(CPU s, wall s) of fn()."""
    c, w = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c, time.perf_counter() - w


def measure(spec: str, data: bytes, repeat: int) -> dict[str, float]:
    """Medians over `repeat` interleaved pairs: CPU and wall seconds of encode and plain, and
    the CPU-time ratio."""
    coder = create(spec)
    coder.warm_up(data[:512])
    plain(coder, data[:512])
    runs = []
    for _ in range(repeat):
        enc_cpu, enc_wall = timed(lambda: coder.encode(data))
        plain_cpu, plain_wall = timed(lambda: plain(coder, data))
        runs.append({"enc_cpu": enc_cpu, "enc_wall": enc_wall, "plain_cpu": plain_cpu,
                     "plain_wall": plain_wall, "ratio": enc_cpu / plain_cpu})
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="bible:head=100000", help="dataset spec")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved pairs; medians reported")
    ap.add_argument("-c", dest="specs", action="append", help="coder spec (repeatable)")
    a = ap.parse_args()
    plugins.load_file(GRU)
    data = load(a.data).data
    print(f"Data: {a.data} ({len(data):,} B); medians of {a.repeat} interleaved runs.\n")
    print("| coder | encode CPU s | plain CPU s | encode ÷ plain (CPU) | encode wall s | "
          "plain wall s |\n|---|---:|---:|---:|---:|---:|")
    for spec in a.specs or SPECS:
        m = measure(spec, data, a.repeat)
        print(f"| {spec} | {m['enc_cpu']:.3f} | {m['plain_cpu']:.3f} | {m['ratio']:.3f} | "
              f"{m['enc_wall']:.3f} | {m['plain_wall']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
