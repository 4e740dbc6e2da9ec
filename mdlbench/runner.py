"""Run one cell: a compressor on a dataset (whole, per file, or in chunks), with a verified round
trip, timings and peak memory, into one result record (a plain dict, stored as JSON)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from . import __version__, measure
from .compressors.base import Compressor
from .datasets import Dataset
from .env import reproducibility
from .errors import MdlbenchError, VerificationError
from .results.store import cell_key
from .ui import Reporter


@dataclass(frozen=True)
class Layout:
    """How a dataset is cut into independently coded units."""

    per_file: bool = False
    chunk_size: int | None = None

    def label(self, dataset: Dataset) -> str:
        label = dataset.name
        if self.per_file:
            label += "/per-file"
        if self.chunk_size:
            label += f"/chunk={self.chunk_size}"
        return label

    def units(self, dataset: Dataset) -> list[tuple[str, bytes]]:
        units = list(dataset.parts) if self.per_file else [(dataset.name, dataset.data)]
        if self.chunk_size:
            cs = self.chunk_size
            units = [(f"{name}@{i}", b[i:i + cs]) for name, b in units
                     for i in range(0, max(len(b), 1), cs)]
        return units


def skeleton(dataset: Dataset, comp: Compressor, layout: Layout, seed: int | None) -> dict[str, Any]:
    """The identifying part of a record; its key decides whether a cell is already done."""
    ds = {
        "name": dataset.name, "label": layout.label(dataset), "sha256": dataset.sha256,
        "size": dataset.size, "files": len(dataset.parts), "kind": dataset.kind,
        "alphabet": dataset.alphabet, "per_file": layout.per_file,
        "chunk_size": layout.chunk_size, "limit_bits": dataset.limit_bits,
        "entropy_bits": dataset.entropy_bits,
    }
    desc = comp.describe()
    key = cell_key({"dataset": ds["sha256"], "label": ds["label"], "spec": desc["spec"],
                    "version": desc["version"], "mdlbench": __version__, "seed": seed})
    return {"schema": 1, "key": key, "dataset": ds, "compressor": desc, "seed": seed}


def run_cell(dataset: Dataset, comp: Compressor, layout: Layout = Layout(), *,
             seed: int | None = None, verify: bool = True,
             reporter: Reporter | None = None) -> dict[str, Any]:
    rec = skeleton(dataset, comp, layout, seed)
    reporter = reporter or Reporter()
    units = layout.units(dataset)
    total = dataset.size
    bits = 0
    ideal: float | None = 0.0
    enc_s = dec_s = 0.0
    peak = 0.0
    parts: list[dict[str, Any]] = []
    extras: dict[str, Any] = {}
    verified: bool | None = True if verify else None
    error = None
    done = 0
    reporter.cell(f"{comp.spec} on {rec['dataset']['label']}", 2 * total if verify else total)
    for name, data in units:
        base = done
        enc = None
        try:

            def prog(d: int, _n: int, *bits: float, base: int = base) -> None:
                reporter.bytes(base + d, 2 * total if verify else total,
                               (bits[0] / d) if bits and d else None)

            def prog_dec(d: int, _n: int, *_: float, base: int = base + len(data)) -> None:
                reporter.bytes(base + d, 2 * total)

            measure.reset_peak()
            t0 = time.perf_counter()
            enc = comp.encode(data, side=dataset.labelled, progress=prog)
            enc_s += time.perf_counter() - t0
            bits += enc.bits
            ideal = None if (ideal is None or enc.bits_ideal is None) else ideal + enc.bits_ideal
            if enc.extras and len(units) == 1:
                extras = enc.extras
            part = {"name": name, "size": len(data), "bits": enc.bits, "bits_ideal": enc.bits_ideal}
            if verify:
                t2 = time.perf_counter()
                out = comp.decode(enc.blob, side=dataset.labelled, progress=prog_dec)
                dec_s += time.perf_counter() - t2
                if out != data:
                    raise VerificationError(f"decoded {len(out)} bytes differ from the input")
        except MdlbenchError as e:
            # Keep going: the other units' sizes are still real; the cell is marked failed.
            verified = False
            msg = f"{name}: {type(e).__name__}: {e}"
            error = msg if error is None else f"{error}; {msg}"
            part = {"name": name, "size": len(data), "bits": enc.bits if enc else None,
                    "bits_ideal": None, "error": str(e)}
        peak = max(peak, measure.peak_mb())
        done += len(data) * (2 if verify else 1)
        if layout.per_file:
            parts.append(part)
    n = max(total, 1)
    ds = rec["dataset"]
    rec.update({
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "bits": bits,
        "bits_ideal": ideal,
        "bpb": bits / n,
        "ratio": (8 * total / bits) if bits else None,
        "excess_bits": (bits - ds["limit_bits"]) if ds["limit_bits"] is not None else None,
        "excess_over_entropy": (bits - ds["entropy_bits"]) if ds["entropy_bits"] is not None else None,
        "encode_s": enc_s,
        "decode_s": dec_s if verify else None,
        "encode_MBps": total / enc_s / 1e6 if enc_s > 0 else None,
        "decode_MBps": total / dec_s / 1e6 if verify and dec_s > 0 else None,
        "peak_rss_mb": peak,
        "verified": verified,
        "error": error,
        "parts": parts,
        "extras": extras,
        "reproducibility": reproducibility(seed),
    })
    return rec
