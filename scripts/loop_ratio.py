"""The neural loop's overhead: a TorchCoder's encode against plain training of its network.

For each coder, on the same data, in one process run (interleaved, so load drifts hit both
alike), it times:

- encode: `coder.encode(data)`, the real stream (container, coding, learning curve);
- plain: the same network (built from the same spec and seed) and optimiser run over the same
  B-stream layout with no coding at all: per step the step-path forward under no_grad (logits
  only), every T steps one optimiser step on the segment (and the model's `refresh()` after
  it, if it has one), exactly as the coder trains.

and prints encode ÷ plain (median of --repeat pairs): what the coder costs beyond the training it
cannot avoid. `make bench` appends its table to results/BENCH.md.

    .venv/bin/python scripts/loop_ratio.py [--data bible:head=100000] [--repeat 3] [-c SPEC ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

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
    """(q + 1, B) int64: the start symbol, then the full steps of the B-stream layout."""
    b, q, _ = layout(len(data), streams)
    k = alphabet_of(data)
    sym = torch.frombuffer(bytearray(data[: b * q]), dtype=torch.uint8).long().view(b, q).T
    return torch.cat([torch.full((1, b), k, dtype=torch.long), sym])


def plain(coder: Any, data: bytes) -> None:
    """Step forward and training of `coder`'s network over `data`'s layout, nothing else."""
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


def measure(spec: str, data: bytes, repeat: int) -> tuple[float, float, float]:
    """(encode s, plain s, ratio): medians over `repeat` interleaved pairs."""
    coder = create(spec)
    coder.warm_up(data[:512])
    plain(coder, data[:512])
    enc, pln, ratio = [], [], []
    for _ in range(repeat):
        t = time.perf_counter()
        coder.encode(data)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        plain(coder, data)
        pln.append(time.perf_counter() - t)
        ratio.append(enc[-1] / pln[-1])
    return statistics.median(enc), statistics.median(pln), statistics.median(ratio)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="bible:head=100000", help="dataset spec")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved pairs; medians reported")
    ap.add_argument("-c", dest="specs", action="append", help="coder spec (repeatable)")
    a = ap.parse_args()
    plugins.load_file(GRU)
    data = load(a.data).data
    print(f"Data: {a.data} ({len(data):,} B); medians of {a.repeat} interleaved runs.\n")
    print("| coder | encode s | plain s | encode ÷ plain |\n|---|---:|---:|---:|")
    for spec in a.specs or SPECS:
        enc, pln, ratio = measure(spec, data, a.repeat)
        print(f"| {spec} | {enc:.3f} | {pln:.3f} | {ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
