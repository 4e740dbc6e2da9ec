"""Pictures people would rather look at than read (matplotlib figures; PNG or SVG files):

- `pareto`: a metric (bpb by default; any of results.metrics) vs encode or decode speed
  (fastest repetition, log scale) for one dataset, readable at 40+ codecs: one colour per codec
  family (results.groups) with a marker per codec, the levels of one codec joined by a line,
  the Pareto front drawn and labelled in bold, every other codec labelled once at its best
  point (labels moved apart by adjustText), `copy` as the speed limit's vertical line, the
  source limit where the dataset has one; a speed measured while other cells ran is drawn
  hollow, an unverified point as a cross, and failed cells are left out;
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
import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from adjustText import adjust_text
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from .. import spec as specmod
from ..errors import UsageError
from . import groups, metrics
from .leaderboard import LIMIT_ROW, SHOWN, dataset_label, formula_record, frame
from .record import BLOCKS, OBJECTIVE, SEGMENTS, UNVERIFIED, Record, latest

KINDS = ("pareto", "learning", "blocks", "sweep")
AXES = ("encode", "decode")
"""What the pareto plot's x axis can be: encode or decode speed."""
CAPTIONS = {"pareto": "bits vs speed", "learning": "prequential learning curves",
            "blocks": "block-wise prequential MDL", "sweep": "excess over the source limit vs n"}
PROGRAM_ROW = "(source limit + program)"
"""The algorithmic datasets' formula row (datasets.algorithmic): limit + program bits."""


def _figure(width: float, height: float, **subplots: Any) -> tuple[Figure, Any]:
    """A figure and its axes (`fig.subplots(**subplots)`: one Axes by default)."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # a renderer of its own: text extents (adjustText) and saving
    return fig, fig.subplots(**subplots)


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


def _points(records: list[Record], dataset: str, x: str, metric: str) -> pd.DataFrame:
    """One point per table row of the dataset with a speed and a figure: compressor (the row),
    name, group (results.groups), y, speed, contended, unverified."""
    if x not in AXES:
        raise UsageError(f"unknown x axis {x!r} (known: {', '.join(AXES)})")
    m = metrics.get(metric)
    speed = f"{x}_MBps"
    df = frame(records)
    df = df[(df["dataset"] == dataset) & df["status"].isin(SHOWN) & df[speed].notna()
            & df[m.field].notna()]
    if df.empty:
        raise UsageError(f"no timed results with a {metric} for dataset {dataset!r} to plot")
    df = df.assign(unverified=df["status"] == UNVERIFIED, y=df[m.field].astype(float)).groupby(
        "compressor", as_index=False).agg(y=("y", "mean"), speed=(speed, "mean"),
                                          contended=("contended", "any"),
                                          unverified=("unverified", "any"),
                                          name=("name", "first"), family=("family", "first"))
    return df.assign(group=[groups.of(n, f) for n, f in zip(df["name"], df["family"],
                                                             strict=True)])


def _front(df: pd.DataFrame, higher_better: bool) -> list[str]:
    """The rows on the Pareto front, fastest first: each better than every faster one. The
    `copy` row is no choice (it compresses nothing): it is the speed limit, not on the front."""
    sign = -1 if higher_better else 1
    best, out = math.inf, []
    coders = df[df["group"] != groups.COPY]
    for row in coders.sort_values(["speed", "compressor"], ascending=[False, True]).itertuples():
        if sign * row.y < best:
            best = sign * row.y
            out.append(row.compressor)
    return out


def front(records: list[Record], dataset: str, x: str = "encode",
          metric: str = "bpb") -> list[str]:
    """The table rows (compressors) on the dataset's Pareto front of `metric` vs `x` speed,
    fastest first: the choices worth making (what the pareto plot labels)."""
    return _front(_points(records, dataset_label(records, dataset), x, metric),
                  metrics.higher_is_better(metric))


MARKERS = ("o", "s", "^", "D", "v", "<", ">", "h", "p", "8")
"""One marker per codec within a group (the colour is the group's): lines of one colour told
apart. No cross among them: a cross marks an unverified point."""


LEVELS = frozenset({"level", "quality", "preset", "clevel", "iterations"})
"""The parameters that set how hard a codec works: the points of one codec that differ only in
these are one sweep, joined by a line (a different window, dictionary or inner codec is
another line)."""


def _sweep(compressor: str) -> str:
    """The line a point belongs to: its spec without the LEVELS parameters."""
    s = specmod.parse(compressor)
    return str(specmod.Spec(s.name, tuple((k, v) for k, v in s.params if k not in LEVELS)))


def _size(codecs: int) -> tuple[float, float, float]:
    """(width, height, label font size): larger and a little smaller type as codecs add up."""
    if codecs <= 8:
        return 8, 5.5, 7.5
    if codecs <= 20:
        return 11, 7, 7.5
    return 13, 8.5, 7


def pareto(records: list[Record], dataset: str, x: str = "encode",
           metric: str = "bpb") -> Figure:
    """`metric` (results.metrics) against `x` speed ("encode" or "decode") for one dataset:
    one colour per codec group (results.groups), the levels of one codec joined by a line,
    the front labelled in full and every other codec once, at its best point."""
    m = metrics.get(metric)
    dataset = dataset_label(records, dataset)
    df = _points(records, dataset, x, metric)
    first = next(r for r in records if r.dataset.label == dataset)
    info = first.dataset
    higher = metrics.higher_is_better(metric)
    on_front = _front(df, higher)
    width, height, font = _size(df["name"].nunique())
    fig, ax = _figure(width, height)
    colour = groups.colours(df["group"])
    points, handles = [], []
    for row in df[df["group"] == groups.COPY].itertuples():  # lzbench's memcpy line
        handles.append(ax.axvline(row.speed, color=colour[groups.COPY], ls=":", lw=1.2,
                                  label=f"{row.compressor}: the harness's speed limit",
                                  zorder=1))
    df = df[df["group"] != groups.COPY]
    for g in groups.ordered(df["group"]):
        mine = df[df["group"] == g]
        names = sorted(mine["name"].unique())
        for name, marker in zip(names, itertools.cycle(MARKERS)):
            pts = mine[mine["name"] == name].sort_values("speed")
            for _, line in pts.groupby(pts["compressor"].map(_sweep)):
                if len(line) > 1:
                    ax.plot(line["speed"], line["y"], lw=0.8, color=colour[g], alpha=0.7,
                            zorder=3)
            for row in pts.itertuples():
                (pt,) = ax.plot(row.speed, row.y, marker="x" if row.unverified else marker,
                                ms=5, color=colour[g], zorder=4, ls="",
                                markerfacecolor="none" if row.contended else colour[g])
                points.append(pt)
        handles.append(Line2D([], [], color=colour[g], marker="o", lw=0.8,
                              label=g if names == [g] else f"{g}: {', '.join(names)}"))
    if df["contended"].any() or df["unverified"].any():
        ax.text(0.01, 0.01, "hollow: speed measured while other cells ran (contended); "
                "×: not decoded back (unverified)", transform=ax.transAxes, fontsize=7,
                color="#555")
    at = df.set_index("compressor")
    xs, ys = at.loc[on_front, "speed"], at.loc[on_front, "y"]
    handles += ax.step(xs, ys, where="post", color="k", alpha=0.35, lw=2, label="Pareto front",
                       zorder=2)
    limit = None if info.limit_bits is None else m.value(
        formula_record(first, LIMIT_ROW, info.limit_bits))
    if limit is not None:
        handles.append(ax.axhline(limit, color="k", ls="--", lw=1, label="source limit",
                                  zorder=1))
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} speed ({metrics.unit(f'{x}_MBps')}, fastest run, log scale)")
    ax.set_ylabel(metrics.axis(metric, [info.kind]))
    ax.set_title(f"{dataset}: {metric} vs {x} speed ({len(df)} settings of "
                 f"{df['name'].nunique()} codecs)")
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize=font, loc="upper left", bbox_to_anchor=(1.01, 1),
              title="colour: codec family", title_fontsize=font)
    fig.tight_layout()
    rest = df[~df["name"].isin(at.loc[on_front, "name"])]
    best = rest.loc[rest.groupby("name")["y"].idxmax() if higher
                    else rest.groupby("name")["y"].idxmin(), "compressor"]
    labels = [ax.text(at.loc[c, "speed"], at.loc[c, "y"],
                      c + (" (unverified)" if at.loc[c, "unverified"] else ""), fontsize=font,
                      fontweight="bold" if c in on_front else "normal", bbox=_BOX,
                      color=colour[at.loc[c, "group"]], zorder=3.5)
              for c in [*on_front, *best]]  # the front in bold, every other codec once
    _spread(ax, labels, points)
    return fig


_BOX = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75}
"""A label's backing: readable where a line runs under it (the labels lie above the lines,
below the points)."""


ITERATIONS = 1000
"""adjustText's limit, in steps rather than seconds: the same layout on a slow machine and a
fast one (it stops earlier once no label overlaps another)."""


def _spread(ax: Axes, labels: list[Any], points: list[Any]) -> None:
    """Move the labels apart and off the points (adjustText), each tied to its point by a thin
    line when it had to move. The room kept around each label and the push off the points are
    what kept 40+ labels from sitting on each other's points (tried on the README line-up)."""
    if not labels:
        return
    targets = [label.get_position() for label in labels]
    adjust_text(labels, ax=ax, objects=points, expand=(1.3, 1.6), force_static=(0.3, 0.6),
                iter_lim=ITERATIONS)
    _settle(ax, labels)
    renderer = ax.figure.canvas.get_renderer()
    for label, target in zip(labels, targets, strict=True):
        box = label.get_window_extent(renderer)
        x, y = ax.transData.transform(target)
        if max(box.x0 - x, x - box.x1, box.y0 - y, y - box.y1) >= _TIE_PX:
            ax.add_patch(FancyArrowPatch(posA=label.get_position(), posB=target, patchA=label,
                                         transform=ax.transData, arrowstyle="-",
                                         color="#888", lw=0.5))


_TIE_PX = 5
"""A label this far (pixels) from its point is tied to it by a line (adjustText's rule)."""


def _settle(ax: Axes, labels: list[Any]) -> None:
    """Whatever overlap adjustText left after its step limit (it depends on where the measured
    speeds put the points): move the later of two overlapping labels up or down, whichever is
    shorter and stays inside the axes, until none overlaps. The front comes first in `labels`,
    so its labels stay where adjustText put them."""
    renderer = ax.figure.canvas.get_renderer()
    area = ax.get_window_extent(renderer)
    for _ in range(8 * len(labels)):
        boxes = [label.get_window_extent(renderer).padded(1) for label in labels]
        pair = next(((i, j) for i, a in enumerate(boxes) for j in range(i + 1, len(boxes))
                     if a.overlaps(boxes[j])), None)
        if pair is None:
            return
        i, j = pair
        a, b = boxes[i], boxes[j]
        moves = sorted([a.y1 - b.y0, -(b.y1 - a.y0)], key=abs)
        fits = [dy for dy in moves if area.y0 <= b.y0 + dy and b.y1 + dy <= area.y1]
        x, y = ax.transData.transform(labels[j].get_position())
        labels[j].set_position(ax.transData.inverted().transform((x, y + (fits or moves)[0])))


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

    fams = swept(records)
    if family is not None:
        fams = {f: rs for f, rs in fams.items() if f == family or f.split(":")[0] == family}
    if not fams:
        raise UsageError("no dataset run at several sizes n (a sweep: suites/sweep.toml) to plot"
                         + (f" for {family!r}" if family else ""))
    fig, axes = _figure(6.5 * len(fams), 6.5, nrows=1, ncols=len(fams), squeeze=False)
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
    # "tight": a legend beside the axes stays whole however long its lines are
    fig.savefig(buf, format=fmt, dpi=120, bbox_inches="tight", pad_inches=0.1)
    atomic_write(path, buf.getvalue())
    return path


def to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def figures(records: list[Record], x: str = "encode", metric: str = "bpb") -> dict[str, Figure]:
    """Every plot the records support, by file stem (pareto-bible, learning-bible...)."""
    return {file_stem(kind, ds, x, metric): make(records, kind, ds, x, metric)
            for kind, ds in available(records)}


def plot_all(records: list[Record], out_dir: Path, fmt: str = "png", x: str = "encode",
             metric: str = "bpb") -> list[Path]:
    """Write every plot the records support; return the paths."""
    return [save(fig, Path(out_dir) / f"{stem}.{fmt}")
            for stem, fig in figures(records, x, metric).items()]
