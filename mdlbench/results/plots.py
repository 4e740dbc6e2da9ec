"""Pictures people would rather look at than read (matplotlib, PNG or SVG):

- `pareto`: bits per byte vs encode speed (fastest repetition) for one dataset, the Pareto
  front drawn; a speed measured while other cells ran is drawn hollow, an unverified point as
  a cross, and failed cells are left out;
- `learning`: code length vs data seen for coders that report per-segment bits (prequential
  neural coders), with the source's limit when it is known;
- `blocks`: block-wise prequential MDL on labelled data: bits per label in each block;
- `sweep`: the n-sweep (suites/sweep.toml): bits above the source limit vs sample size for each
  task run at several sizes, the real stream solid and a variational objective dashed, with the
  generating program's bits as the bounded excess to compare with.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .. import spec as specmod  # noqa: E402
from ..errors import UsageError  # noqa: E402
from .leaderboard import SHOWN, frame  # noqa: E402
from .record import BLOCKS, OBJECTIVE, SEGMENTS, UNVERIFIED, Record, latest  # noqa: E402

KINDS = ("pareto", "learning", "blocks", "sweep")
PROGRAM_ROW = "(source limit + program)"
"""The algorithmic datasets' formula row (datasets.algorithmic): limit + program bits."""


def _shown(records: list[Record]) -> list[Record]:
    """The newest record of each cell, if it has bits to show (not failed, not an error)."""
    return [r for r in latest(records) if r.has_bits]


def _label(r: Record) -> str:
    mark = " (unverified)" if r.status == UNVERIFIED else ""
    return f"{r.compressor.spec} on {r.dataset.label}{mark}"


def _with_extra(records: list[Record], key: str, dataset: str | None,
                missing: str) -> list[Record]:
    """Records with bits that carry extras[key] (optionally for one dataset)."""
    label = None if dataset is None else resolve_label(records, dataset)
    recs = [r for r in _shown(records) if r.extras.get(key)
            and (label is None or r.dataset.label == label)]
    if not recs:
        raise UsageError(missing)
    return recs


def resolve_label(records: list[Record], dataset: str) -> str:
    """A dataset label of these records: the label itself, or a dataset name that only one
    label has (`canterbury` for `canterbury/per-file`)."""
    labels = sorted({r.dataset.label for r in records})
    if dataset in labels:
        return dataset
    named = sorted({r.dataset.label for r in records if r.dataset.name == dataset})
    if len(named) == 1:
        return named[0]
    raise UsageError(f"no results for dataset {dataset!r} (labels in these results: "
                     f"{', '.join(labels)})")


def pareto(records: list[Record], dataset: str) -> plt.Figure:
    dataset = resolve_label(records, dataset)
    df = frame(records)
    df = df[(df["dataset"] == dataset) & df["status"].isin(SHOWN) & df["encode_MBps"].notna()]
    if df.empty:
        raise UsageError(f"no timed results for dataset {dataset!r} to plot")
    df = df.assign(unverified=df["status"] == UNVERIFIED).groupby(
        "compressor", as_index=False).agg(bpb=("bpb", "mean"), encode_MBps=("encode_MBps", "mean"),
                                          contended=("contended", "any"),
                                          unverified=("unverified", "any"))
    fig, ax = plt.subplots(figsize=(8, 5.5))
    df = df.assign(codec=df["compressor"].str.split(":").str[0])
    for codec, g in df.groupby("codec"):  # one colour per codec: level sweeps read as lines
        g = g.sort_values("encode_MBps")
        (line,) = ax.plot(g["encode_MBps"], g["bpb"], lw=0.8, label=codec, zorder=3)
        for row in g.itertuples():
            ax.plot(row.encode_MBps, row.bpb, marker="x" if row.unverified else "o", ms=5,
                    color=line.get_color(), zorder=4,
                    markerfacecolor="none" if row.contended else line.get_color())
    if df["contended"].any() or df["unverified"].any():
        ax.text(0.01, 0.01, "hollow: speed measured while other cells ran (contended); "
                "×: not decoded back (unverified)", transform=ax.transAxes, fontsize=7,
                color="#555")
    best, pts = float("inf"), []
    for row in df.sort_values("encode_MBps", ascending=False).itertuples():
        if row.bpb < best:
            best = row.bpb
            pts.append((row.encode_MBps, row.bpb, row.compressor))
    xs, ys, names = zip(*pts, strict=True)
    ax.step(xs, ys, where="post", color="k", alpha=0.35, lw=2, label="Pareto front", zorder=2)
    unverified = set(df.loc[df["unverified"], "compressor"])
    for x, y, name in pts:  # only the front is labelled: those are the choices worth making
        ax.annotate(name + (" (unverified)" if name in unverified else ""), (x, y), fontsize=7,
                    xytext=(4, -9), textcoords="offset points")
    ax.legend(fontsize=8, ncol=2)
    ax.set_xscale("log")
    ax.set_xlabel("encode speed (MB/s, log scale)")
    ax.set_ylabel("bits per byte")
    ax.set_title(f"{dataset}: size vs speed")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def learning(records: list[Record], dataset: str | None = None) -> plt.Figure:
    recs = _with_extra(records, SEGMENTS, dataset, "no results with per-segment code lengths (prequential coders) to plot")
    fig, ax = plt.subplots(figsize=(7.5, 5))
    limits = {}
    for r in recs:
        seg = r.extras[SEGMENTS]
        seen, bits, xs, ys = 0, 0.0, [], []
        for s in seg:
            seen += s["bytes"]
            bits += s["bits"]
            xs.append(seen)
            ys.append(bits / seen)
        ax.plot(xs, ys, label=_label(r))
        ds = r.dataset
        if ds.limit_bits:
            limits[ds.label] = ds.limit_bits / ds.size
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


def blocks(records: list[Record], dataset: str | None = None) -> plt.Figure:
    recs = _with_extra(records, BLOCKS, dataset, "no results with per-block code lengths (labelled prequential) to plot")
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for r in recs:
        xs, ys = [], []
        for b in r.extras[BLOCKS]:
            n = b["end"] - b["start"]
            if n > 0:
                xs.append(b["start"] if b["start"] > 0 else 1)
                ys.append(b.get("bits_ideal", b["bits"]) / n)
        ax.plot(xs, ys, marker="o", ms=3, label=_label(r))
    alphabet = recs[0].dataset.alphabet
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


def _family(r: Record) -> tuple[str, int] | None:
    """(the dataset's spec without `n`, n) for a dataset with a source limit and an `n`."""
    from ..datasets import DATASETS

    if r.dataset.limit_bits is None:
        return None
    try:
        s = specmod.parse(r.dataset.name)
    except UsageError:  # a path or URL: not a sized family
        return None
    declared = {p.name: p.default for p in getattr(DATASETS.get(s.name), "params", ())}
    n = dict(s.params).get("n", declared.get("n"))  # canonical names leave out a default n
    if n is None:
        return None
    rest = tuple((k, v) for k, v in s.params if k != "n")
    return str(specmod.Spec(s.name, rest)), int(float(n))


def swept(records: list[Record]) -> dict[str, list[Record]]:
    """Dataset families run at two or more sizes: family -> their records with bits."""
    fams: dict[str, list[Record]] = {}
    for r in _shown(records):
        f = _family(r)
        if f is not None:
            fams.setdefault(f[0], []).append(r)
    return {f: rs for f, rs in fams.items() if len({_family(r)[1] for r in rs}) >= 2}


def _short(rows: list[str]) -> dict[str, str]:
    """Row names without the parameters every row shares (the legend says what differs)."""
    parsed = {r: specmod.parse(r) for r in rows}
    common = set.intersection(*(set(p.params) for p in parsed.values())) if len(rows) > 1 else set()
    names = {p.name for p in parsed.values()}
    out = {}
    for r, p in parsed.items():
        kept = [f"{k}={v}" for k, v in p.params if (k, v) not in common]
        head = p.name if len(names) > 1 or not kept else ""
        out[r] = (head + (":" if head and kept else "") + ",".join(kept)) or p.name
    return out


def sweep(records: list[Record], family: str | None = None) -> plt.Figure:
    """Bits above the source limit vs n, one panel per task: does the excess stay bounded?"""
    from matplotlib.lines import Line2D

    fams = swept(records)
    if family is not None:
        fams = {f: rs for f, rs in fams.items() if f == family or f.split(":")[0] == family}
    if not fams:
        raise UsageError("no dataset run at several sizes n (a sweep: suites/sweep.toml) to plot"
                         + (f" for {family!r}" if family else ""))
    fig, axes = plt.subplots(1, len(fams), figsize=(6.5 * len(fams), 6.5), squeeze=False)
    for ax, (fam, recs) in zip(axes[0], sorted(fams.items()), strict=True):
        rows = sorted({r.row for r in recs})
        names = _short(rows)
        ref: dict[int, float] = {}
        handles, low = [], math.inf
        for i, row in enumerate(rows):
            pts = sorted(((_family(r)[1], r) for r in recs if r.row == row), key=lambda t: t[0])
            color = f"C{i}"
            ys = [r.bits - r.dataset.limit_bits for _, r in pts]
            (line,) = ax.plot([n for n, _ in pts], ys, "o-", color=color, ms=4,
                              label=names[row])
            handles.append(line)
            obj = [(n, r.extras[OBJECTIVE] - r.dataset.limit_bits) for n, r in pts
                   if isinstance(r.extras.get(OBJECTIVE), int | float)]
            if obj:
                ax.plot(*zip(*obj, strict=True), "s--", color=color, ms=3, alpha=0.8)
                low = min(low, *(v for _, v in obj))
            low = min(low, *ys)
            for n, r in pts:
                if PROGRAM_ROW in r.dataset.formulas:
                    ref[n] = r.dataset.formulas[PROGRAM_ROW] - r.dataset.limit_bits
        if ref:
            xs = sorted(ref)
            handles += ax.plot(xs, [ref[n] for n in xs], "k:", lw=1.5,
                               label="the generating program's bits")
        handles += [Line2D([], [], color="grey", ls="-", marker="o", ms=4,
                           label="solid: real stream (decoded back)"),
                    Line2D([], [], color="grey", ls="--", marker="s", ms=3,
                           label="dashed: objective KL + E[NLL] + prior")]
        if low <= 0:
            ax.axhline(0, color="k", lw=1)
        ax.set_xscale("log", base=2)
        if low > 0:  # every coder above the limit: a log scale from just below the lowest
            ax.set_yscale("log")
            ax.set_ylim(bottom=low / 2)
        else:
            ax.set_yscale("symlog", linthresh=10)
        ax.set_xlabel("n (samples)")
        ax.set_ylabel("bits above the source limit")
        ax.set_title(f"{fam}: excess over the limit as n grows", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  ncol=2)
    fig.tight_layout()
    return fig


def make(records: list[Record], kind: str, dataset: str | None = None) -> plt.Figure:
    if kind not in KINDS:
        raise UsageError(f"unknown plot kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "pareto":
        if dataset is None:
            labels = sorted({r.dataset.label for r in records})
            if len(labels) != 1:
                raise UsageError(f"pareto needs --dataset (one of: {', '.join(labels)})")
            dataset = labels[0]
        return pareto(records, dataset)
    if kind == "sweep":
        return sweep(records, dataset)
    return learning(records, dataset) if kind == "learning" else blocks(records, dataset)


def available(records: list[Record]) -> list[tuple[str, str | None]]:
    """Every plot these records support: (kind, dataset)."""
    out: list[tuple[str, str | None]] = [("pareto", d) for d in
                                         sorted({r.dataset.label for r in records})]
    if any(r.extras.get(SEGMENTS) for r in records):
        out.append(("learning", None))
    if any(r.extras.get(BLOCKS) for r in records):
        out.append(("blocks", None))
    if swept(records):
        out.append(("sweep", None))
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


def plot_all(records: list[Record], out_dir: Path, fmt: str = "png",
             kinds: Sequence[str] = KINDS) -> list[Path]:
    paths = []
    for kind, ds in available(records):
        if kind in kinds:
            name = kind + ("-" + "".join(c if c.isalnum() else "_" for c in ds) if ds else "")
            paths.append(save(make(records, kind, ds), Path(out_dir) / f"{name}.{fmt}"))
    return paths
