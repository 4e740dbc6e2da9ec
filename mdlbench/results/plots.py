"""Pictures people would rather look at than read (matplotlib figures; PNG or SVG files):

- `pareto`: a metric (bpb by default; any of results.metrics) vs encode or decode
  speed (fastest repetition) for one dataset, the Pareto front drawn and labelled (labels moved apart by adjustText), the source limit where
  the dataset has one; a speed measured while other cells ran is drawn hollow, an unverified
  point as a cross, and failed cells are left out;
- `learning`: cumulative code length vs data seen for every coder that reports per-segment bits
  (`extras["segments"]`: the neural coders, and any other prequential coder that fills it),
  with the source limit where it is known;
- `blocks`: block-wise prequential MDL on labelled data: the code length of each block;
- `sweep`: the n-sweep (suites/sweep.toml): bits above the source limit vs sample size for each
  task run at several sizes, the real stream solid and a variational objective dashed, with the
  generating program's bits as the bounded excess to compare with.

Axes are labelled with the metrics' own units (results.metrics): per byte, or per label for
labelled data (the labels are what is coded). Figures are built with matplotlib's object API (no pyplot state): a library caller or a
notebook gets a Figure to show or save, and nothing is drawn on a screen behind its back.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adjustText import adjust_text
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import spec as specmod
from ..errors import UsageError
from . import metrics
from .leaderboard import LIMIT_ROW, SHOWN, dataset_label, formula_record, frame
from .record import BLOCKS, OBJECTIVE, SEGMENTS, UNVERIFIED, Record, latest

KINDS = ("pareto", "learning", "blocks", "sweep")
AXES = ("encode", "decode")
"""What the pareto plot's x axis can be: encode or decode speed."""
CAPTIONS = {"pareto": "bits vs speed", "learning": "prequential learning curves",
            "blocks": "block-wise prequential MDL", "sweep": "excess over the source limit vs n"}
PROGRAM_ROW = "(source limit + program)"
"""The algorithmic datasets' formula row (datasets.algorithmic): limit + program bits."""


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # a renderer of its own: text extents (adjustText) and saving
    return fig, fig.subplots()


def _shown(records: list[Record]) -> list[Record]:
    """The newest record of each cell, if it has bits to show (not failed, not an error)."""
    return [r for r in latest(records) if r.has_bits]


def _label(r: Record, with_dataset: bool = True) -> str:
    mark = " (unverified)" if r.status == UNVERIFIED else ""
    return r.compressor.spec + (f" on {r.dataset.label}" if with_dataset else "") + mark


def _with_extra(records: list[Record], key: str, dataset: str | None,
                missing: str) -> list[Record]:
    """Records with bits that carry extras[key] (optionally for one dataset)."""
    label = None if dataset is None else dataset_label(records, dataset)
    recs = [r for r in _shown(records) if r.extras.get(key)
            and (label is None or r.dataset.label == label)]
    if not recs:
        raise UsageError(missing)
    return recs


def pareto(records: list[Record], dataset: str, x: str = "encode",
           metric: str = "bpb") -> Figure:
    """`metric` (results.metrics) against `x` speed ("encode" or "decode") for one dataset."""
    if x not in AXES:
        raise UsageError(f"unknown x axis {x!r} (known: {', '.join(AXES)})")
    m = metrics.get(metric)
    dataset = dataset_label(records, dataset)
    speed = f"{x}_MBps"
    df = frame(records)
    df = df[(df["dataset"] == dataset) & df["status"].isin(SHOWN) & df[speed].notna()
            & df[m.field].notna()]
    if df.empty:
        raise UsageError(f"no timed results with a {metric} for dataset {dataset!r} to plot")
    first = next(r for r in records if r.dataset.label == dataset)
    info = first.dataset
    df = df.assign(unverified=df["status"] == UNVERIFIED, y=df[m.field].astype(float)).groupby(
        "compressor", as_index=False).agg(y=("y", "mean"), speed=(speed, "mean"),
                                          contended=("contended", "any"),
                                          unverified=("unverified", "any"))
    fig, ax = _figure(8, 5.5)
    df = df.assign(codec=df["compressor"].str.split(":").str[0])
    codecs = df["codec"].nunique()  # a colour of its own for each codec, up to 20
    ax.set_prop_cycle(color=colormaps["tab10" if codecs <= 10 else "tab20"].colors)
    points = []
    for codec, g in df.groupby("codec"):  # one colour per codec: level sweeps read as lines
        g = g.sort_values("speed")
        (line,) = ax.plot(g["speed"], g["y"], lw=0.8, label=codec, zorder=3)
        for row in g.itertuples():
            (pt,) = ax.plot(row.speed, row.y, marker="x" if row.unverified else "o", ms=5,
                            color=line.get_color(), zorder=4,
                            markerfacecolor="none" if row.contended else line.get_color())
            points.append(pt)
    if df["contended"].any() or df["unverified"].any():
        ax.text(0.01, 0.01, "hollow: speed measured while other cells ran (contended); "
                "×: not decoded back (unverified)", transform=ax.transAxes, fontsize=7,
                color="#555")
    sign = -1 if m.better == metrics.HIGHER else 1
    best, front = float("inf"), []
    for row in df.sort_values("speed", ascending=False).itertuples():
        if sign * row.y < best:
            best = sign * row.y
            front.append((row.speed, row.y, row.compressor))
    xs, ys, _ = zip(*front, strict=True)
    ax.step(xs, ys, where="post", color="k", alpha=0.35, lw=2, label="Pareto front", zorder=2)
    limit = None if info.limit_bits is None else m.value(
        formula_record(first, LIMIT_ROW, info.limit_bits))
    if limit is not None:
        ax.axhline(limit, color="k", ls="--", lw=1, label="source limit", zorder=1)
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} speed ({metrics.unit(speed)}, fastest run, log scale)")
    ax.set_ylabel(metrics.axis(metric, [info.kind]))
    ax.set_title(f"{dataset}: {metric} vs {x} speed")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    unverified = set(df.loc[df["unverified"], "compressor"])
    labels = [ax.text(x0, y0, name + (" (unverified)" if name in unverified else ""), fontsize=7,
                      zorder=5) for x0, y0, name in front]  # the front: the choices worth making
    _spread(ax, labels, points)
    return fig


def _spread(ax: Axes, labels: list[Any], points: list[Any]) -> None:
    """Move the labels apart and off the points (adjustText), each tied to its point by a thin
    line when it had to move."""
    if labels:
        adjust_text(labels, ax=ax, objects=points, expand=(1.15, 1.4), time_lim=2,
                    arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.5})


def learning(records: list[Record], dataset: str | None = None) -> Figure:
    """Cumulative Σ -log2 p per symbol against symbols coded, for every coder with segments."""
    recs = _with_extra(records, SEGMENTS, dataset, "no results with per-segment code lengths "
                       "(prequential coders) to plot")
    unit = metrics.unit("bpb", {r.dataset.kind for r in recs})
    fig, ax = _figure(7.5, 5)
    limits = {}
    for r in recs:
        seen, bits, xs, ys = 0, 0.0, [], []
        for s in r.extras[SEGMENTS]:
            seen += s["bytes"]
            bits += s["bits"]
            if seen:
                xs.append(seen)
                ys.append(bits / seen)
        ax.plot(xs, ys, label=_label(r, dataset is None))
        ds = r.dataset
        if ds.limit_bits:
            limits[ds.label] = metrics.value("bpb", formula_record(r, LIMIT_ROW, ds.limit_bits))
    for label, v in limits.items():
        ax.axhline(v, color="k", ls="--", lw=1,
                   label="source limit" + ("" if dataset else f" ({label})"))
    ax.set_xscale("log")
    syms = {metrics.symbol(r.dataset.kind) for r in recs}
    ax.set_xlabel(f"{syms.pop() if len(syms) == 1 else 'symbol'}s coded so far")
    ax.set_ylabel(f"cumulative {unit} (Σ -log2 p)")
    ax.set_title("Prequential code length vs data seen"
                 + (f": {recs[0].dataset.label}" if dataset else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def blocks(records: list[Record], dataset: str | None = None) -> Figure:
    """Bits per label in each block of a block-wise prequential code."""
    recs = _with_extra(records, BLOCKS, dataset, "no results with per-block code lengths "
                       "(labelled prequential) to plot")
    fig, ax = _figure(7.5, 5)
    for r in recs:
        xs, ys = [], []
        for b in r.extras[BLOCKS]:
            n = b["end"] - b["start"]
            if n > 0:
                xs.append(b["start"] if b["start"] > 0 else 1)
                ys.append(b.get("bits_ideal", b["bits"]) / n)
        ax.plot(xs, ys, marker="o", ms=3, label=_label(r, dataset is None))
    alphabet = recs[0].dataset.alphabet
    if alphabet and alphabet > 1:
        ax.axhline(math.log2(alphabet), color="k", ls="--", lw=1, label="uniform code")
    ax.set_xscale("log")
    ax.set_xlabel("examples already sent (block start)")
    ax.set_ylabel(f"{metrics.unit('bpb', {r.dataset.kind for r in recs})} in the block "
                  "(Σ -log2 p)")
    ax.set_title("Block-wise prequential MDL" + (f": {recs[0].dataset.label}" if dataset else ""))
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


def sweep(records: list[Record], family: str | None = None) -> Figure:
    """Bits above the source limit vs n, one panel per task: does the excess stay bounded?"""
    from matplotlib.lines import Line2D

    fams = swept(records)
    if family is not None:
        fams = {f: rs for f, rs in fams.items() if f == family or f.split(":")[0] == family}
    if not fams:
        raise UsageError("no dataset run at several sizes n (a sweep: suites/sweep.toml) to plot"
                         + (f" for {family!r}" if family else ""))
    fig = Figure(figsize=(6.5 * len(fams), 6.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(fams), squeeze=False)
    for ax, (fam, recs) in zip(axes[0], sorted(fams.items()), strict=True):
        rows = sorted({r.row for r in recs})
        names = _short(rows)
        ref: dict[int, float] = {}
        handles, low = [], math.inf
        for i, row in enumerate(rows):
            pts = sorted(((_family(r)[1], r) for r in recs if r.row == row), key=lambda t: t[0])
            color = f"C{i}"
            ys = [metrics.value("excess", r) for _, r in pts]
            (line,) = ax.plot([n for n, _ in pts], ys, "o-", color=color, ms=4,
                              label=names[row])
            handles.append(line)
            obj = [(n, metrics.value("excess", formula_record(r, OBJECTIVE, r.extras[OBJECTIVE])))
                   for n, r in pts if isinstance(r.extras.get(OBJECTIVE), int | float)]
            if obj:
                ax.plot(*zip(*obj, strict=True), "s--", color=color, ms=3, alpha=0.8)
                low = min(low, *(v for _, v in obj))
            low = min(low, *ys)
            for n, r in pts:
                if PROGRAM_ROW in r.dataset.formulas:
                    ref[n] = metrics.value("excess", formula_record(
                        r, PROGRAM_ROW, r.dataset.formulas[PROGRAM_ROW]))
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


_FOR_DATASETS: dict[str, Callable[[list[Record], str | None], Figure]] = {
    "learning": learning, "blocks": blocks, "sweep": sweep}
"""Kinds drawn for one dataset (a sweep: one task family) or for all of them at once (pareto
is one dataset's)."""


def make(records: list[Record], kind: str, dataset: str | None = None,
         x: str = "encode", metric: str = "bpb") -> Figure:
    """One figure of `kind` (pareto needs a dataset when the records hold several, and draws
    `metric`)."""
    if kind not in KINDS:
        raise UsageError(f"unknown plot kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "pareto":
        if dataset is None:
            labels = sorted({r.dataset.label for r in records})
            if len(labels) != 1:
                raise UsageError(f"pareto needs a dataset (--dataset: one of {', '.join(labels)})")
            dataset = labels[0]
        return pareto(records, dataset, x, metric)
    return _FOR_DATASETS[kind](records, dataset)


def available(records: list[Record]) -> list[tuple[str, str]]:
    """Every plot these records support, one per dataset: (kind, dataset label), and one per
    task family run at several sizes: ("sweep", family)."""
    shown = _shown(records)
    out = []
    for label in sorted({r.dataset.label for r in records}):
        mine = [r for r in shown if r.dataset.label == label]
        if any(r.timing and r.timing.encode for r in mine):
            out.append(("pareto", label))
        if any(r.extras.get(SEGMENTS) for r in mine):
            out.append(("learning", label))
        if any(r.extras.get(BLOCKS) for r in mine):
            out.append(("blocks", label))
    return out + [("sweep", fam) for fam in sorted(swept(records))]


def file_stem(kind: str, dataset: str | None, x: str = "encode", metric: str = "bpb") -> str:
    """A plot's file name without suffix: `pareto-bible`, `pareto-bible-decode` (decode speed
    on the x axis), `pareto-bible-ratio` (another metric than bpb), `learning-bible_head_150000`."""
    name = kind + ("-" + "".join(c if c.isalnum() else "_" for c in dataset) if dataset else "")
    if kind != "pareto":
        return name
    return name + (f"-{x}" if x != "encode" else "") + (f"-{metric}" if metric != "bpb" else "")


def save(fig: Figure, path: Path) -> Path:
    from .store import atomic_write

    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        raise UsageError(f"plot format must be .png or .svg, got {path.name!r}")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=120)
    atomic_write(path, buf.getvalue())
    return path


def to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def figures(records: list[Record], kinds: Sequence[str] = KINDS,
            x: str = "encode", metric: str = "bpb") -> dict[str, Figure]:
    """Every plot the records support, by file stem (pareto-bible, learning-bible...)."""
    return {file_stem(kind, ds, x, metric): make(records, kind, ds, x, metric)
            for kind, ds in available(records) if kind in kinds}


def plot_all(records: list[Record], out_dir: Path, fmt: str = "png",
             kinds: Sequence[str] = KINDS, x: str = "encode",
             metric: str = "bpb") -> list[Path]:
    """Write every plot the records support; return the paths."""
    return [save(fig, Path(out_dir) / f"{stem}.{fmt}")
            for stem, fig in figures(records, kinds, x, metric).items()]
