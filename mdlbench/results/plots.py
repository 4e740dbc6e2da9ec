"""Pictures people would rather look at than read (matplotlib, PNG or SVG):

- `pareto`: bits per byte vs encode speed for one dataset, the Pareto front drawn;
- `learning`: code length vs data seen for coders that report per-segment bits (prequential
  neural coders), with the source's limit when it is known;
- `blocks`: block-wise prequential MDL on labelled data: bits per label in each block.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..errors import UsageError  # noqa: E402
from .leaderboard import frame  # noqa: E402

KINDS = ("pareto", "learning", "blocks")


def _latest(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep: dict[tuple, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: r.get("created", "")):
        keep[(r["dataset"]["label"], r["compressor"]["spec"], r.get("seed"))] = r
    return [r for r in keep.values() if r.get("verified") is not False]


def _with_extra(records: list[dict[str, Any]], key: str, dataset: str | None,
                missing: str) -> list[dict[str, Any]]:
    """Latest verified records that carry extras[key] (optionally for one dataset)."""
    recs = [r for r in _latest(records) if r.get("extras", {}).get(key)
            and (dataset is None or r["dataset"]["label"] == dataset)]
    if not recs:
        raise UsageError(missing)
    return recs


def pareto(records: list[dict[str, Any]], dataset: str) -> plt.Figure:
    df = frame(records)
    df = df[(df["dataset"] == dataset) & (df["verified"] != False) & df["encode_MBps"].notna()]  # noqa: E712
    if df.empty:
        raise UsageError(f"no timed results for dataset {dataset!r} to plot")
    df = df.groupby("compressor", as_index=False)[["bpb", "encode_MBps"]].mean()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    df = df.assign(codec=df["compressor"].str.split(":").str[0])
    for codec, g in df.groupby("codec"):  # one colour per codec: level sweeps read as lines
        g = g.sort_values("encode_MBps")
        ax.plot(g["encode_MBps"], g["bpb"], marker="o", ms=4, lw=0.8, label=codec, zorder=3)
    best, pts = float("inf"), []
    for row in df.sort_values("encode_MBps", ascending=False).itertuples():
        if row.bpb < best:
            best = row.bpb
            pts.append((row.encode_MBps, row.bpb, row.compressor))
    xs, ys, names = zip(*pts, strict=True)
    ax.step(xs, ys, where="post", color="k", alpha=0.35, lw=2, label="Pareto front", zorder=2)
    for x, y, name in pts:  # only the front is labelled: those are the choices worth making
        ax.annotate(name, (x, y), fontsize=7, xytext=(4, -9), textcoords="offset points")
    ax.legend(fontsize=8, ncol=2)
    ax.set_xscale("log")
    ax.set_xlabel("encode speed (MB/s, log scale)")
    ax.set_ylabel("bits per byte")
    ax.set_title(f"{dataset}: size vs speed")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def learning(records: list[dict[str, Any]], dataset: str | None = None) -> plt.Figure:
    recs = _with_extra(records, "segments", dataset, "no results with per-segment code lengths (prequential coders) to plot")
    fig, ax = plt.subplots(figsize=(7.5, 5))
    limits = {}
    for r in recs:
        seg = r["extras"]["segments"]
        seen, bits, xs, ys = 0, 0.0, [], []
        for s in seg:
            seen += s["bytes"]
            bits += s["bits"]
            xs.append(seen)
            ys.append(bits / seen)
        ax.plot(xs, ys, label=f"{r['compressor']['spec']} on {r['dataset']['label']}")
        ds = r["dataset"]
        if ds.get("limit_bits"):
            limits[ds["label"]] = ds["limit_bits"] / ds["size"]
    for label, v in limits.items():
        ax.axhline(v, color="k", ls="--", lw=1, label=f"source limit ({label})")
    ax.set_xscale("log")
    ax.set_xlabel("bytes coded so far")
    ax.set_ylabel("cumulative bits per byte")
    ax.set_title("Prequential code length vs data seen")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def blocks(records: list[dict[str, Any]], dataset: str | None = None) -> plt.Figure:
    recs = _with_extra(records, "blocks", dataset, "no results with per-block code lengths (labelled prequential) to plot")
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for r in recs:
        xs, ys = [], []
        for b in r["extras"]["blocks"]:
            n = b["end"] - b["start"]
            if n > 0:
                xs.append(b["start"] if b["start"] > 0 else 1)
                ys.append(b.get("bits_ideal", b["bits"]) / n)
        ax.plot(xs, ys, marker="o", ms=3, label=f"{r['compressor']['spec']} on {r['dataset']['label']}")
    alphabet = recs[0]["dataset"].get("alphabet")
    if alphabet and alphabet > 1:
        import math

        ax.axhline(math.log2(alphabet), color="k", ls="--", lw=1, label="uniform code")
    ax.set_xscale("log")
    ax.set_xlabel("examples already sent (block start)")
    ax.set_ylabel("bits per label in the block (Σ -log2 p)")
    ax.set_title("Block-wise prequential MDL")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def make(records: list[dict[str, Any]], kind: str, dataset: str | None = None) -> plt.Figure:
    if kind not in KINDS:
        raise UsageError(f"unknown plot kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "pareto":
        if dataset is None:
            labels = sorted({r["dataset"]["label"] for r in records})
            if len(labels) != 1:
                raise UsageError(f"pareto needs --dataset (one of: {', '.join(labels)})")
            dataset = labels[0]
        return pareto(records, dataset)
    return learning(records, dataset) if kind == "learning" else blocks(records, dataset)


def available(records: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Every plot these records support: (kind, dataset)."""
    out: list[tuple[str, str | None]] = [("pareto", d) for d in
                                         sorted({r["dataset"]["label"] for r in records})]
    if any(r.get("extras", {}).get("segments") for r in records):
        out.append(("learning", None))
    if any(r.get("extras", {}).get("blocks") for r in records):
        out.append(("blocks", None))
    return out


def save(fig: plt.Figure, path: Path) -> Path:
    from .store import atomic_write

    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        raise UsageError(f"plot format must be .png or .svg, got {path.name!r}")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=120)
    plt.close(fig)
    atomic_write(path, buf.getvalue())
    return path


def to_svg(fig: plt.Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def plot_all(records: list[dict[str, Any]], out_dir: Path, fmt: str = "png",
             kinds: Sequence[str] = KINDS) -> list[Path]:
    paths = []
    for kind, ds in available(records):
        if kind in kinds:
            name = kind + ("-" + "".join(c if c.isalnum() else "_" for c in ds) if ds else "")
            paths.append(save(make(records, kind, ds), Path(out_dir) / f"{name}.{fmt}"))
    return paths
