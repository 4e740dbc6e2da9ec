"""Speed and bits of the variational coders (bits-back and two-part) on small inputs.

`bench()` returns one row per (coder, dataset): real stream bits, bpb, the variational figures
(KL + E[NLL] + prior parameters, bits-back net length, initial bits, two-part) and encode /
decode KB/s. Decoding retrains the model (bits-back), so it runs about as fast as encoding.
Inputs are tiny on purpose (CPU, a few KB): these coders are for measuring description
lengths of small models, not for throughput.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .compressors import create
from .datasets import load

PARITY = "parity:n=512,len=4"
SPECS = {
    PARITY: ["variational:context=5,hidden=6,steps=1500",
             "variational:context=5,hidden=6,steps=1500,init=handset",
             "vtwopart:context=5,hidden=6,steps=1500,init=handset",
             "variational:context=5,hidden=6,steps=1500,prior=gaussian"],
    "text": ["variational:context=6,embed=8,hidden=32,steps=1000",
             "vtwopart:context=6,embed=8,hidden=32,steps=1000"],
}
KEYS = ("kl_bits", "kl_se_bits", "nll_bits", "prior_param_bits", "total_bits",
        "bitsback_net_bits", "initial_bits", "wbits", "twopart_bits", "adjusted_bits")


def _text() -> tuple[str, bytes]:
    path = Path(__file__).resolve().parent.parent / "datasets" / "canterbury" / "alice29.txt"
    return "alice29.txt[2000:7000]", path.read_bytes()[2000:7000]


def bench() -> list[dict[str, Any]]:
    ds = load(PARITY)
    inputs = {PARITY: (ds.name, ds.data), "text": _text()}
    rows = []
    for key, specs in SPECS.items():
        name, data = inputs[key]
        for spec in specs:
            comp = create(spec)
            t0 = time.perf_counter()
            enc = comp.encode(data)
            t1 = time.perf_counter()
            ok = comp.decode(enc.blob) == data
            t2 = time.perf_counter()
            rows.append({
                "name": spec, "dataset": name, "bytes": len(data), "bits": enc.bits,
                "bpb": enc.bits / len(data), "bits_ideal": enc.bits_ideal, "verified": ok,
                **{k: enc.extras.get(k) for k in KEYS},
                "encode_KBps": len(data) / 1e3 / (t1 - t0),
                "decode_KBps": len(data) / 1e3 / (t2 - t1),
            })
    return rows


if __name__ == "__main__":
    import json

    for row in bench():
        print(json.dumps(row))
