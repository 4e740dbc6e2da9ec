"""A self-contained HTML report: one section per dataset (its table, sortable, and its plots
beside it), how the figures were measured, and the machines and library versions that made
them. No external assets (inline CSS, SVG and a small script), so the one file can be
mailed, attached to a CI run or put on a project page; laid out for phones too (the page never
scrolls sideways, a wide table scrolls inside its own box).

At lzbench breadth (40+ rows) a table stays readable: each row names its codec family with the
plot's colour (results.groups), chips above the table show or hide families, a toggle keeps
only the Pareto front of bits vs encode speed (plots.front, the pareto plot's own), and a
pareto plot of many codecs takes the section's whole width below the table.

Datasets are not ranked against each other: their figures do not add up (a digits coder and a
text coder share no scale). A cross-dataset table by mean rank is added only when asked.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import UsageError
from . import groups, metrics, plots, tables
from . import leaderboard as lb
from .record import VERIFIED, Record, latest

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
padding:1rem clamp(.75rem,3vw,2rem);max-width:110rem;color:#1b1b1b;line-height:1.45;
overflow-wrap:anywhere}
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.2rem;margin:2.2rem 0 .3rem}
p,li{max-width:60rem}small,.meta,.legend{color:#555}.meta{margin:.2rem 0 .8rem}
nav ul{display:flex;flex-wrap:wrap;gap:.3rem 1rem;padding:0;list-style:none}
.pair{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start}
.pair>.tables{flex:1 1 34rem;min-width:0}.pair>.plots{flex:0 1 36rem;min-width:0}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.85rem;white-space:nowrap}
p.caption{font-size:.8rem;color:#555;margin:.2rem 0}
th,td{padding:.3rem .55rem;border-bottom:1px solid #ddd}
thead th{background:#f3f3f3;position:sticky;top:0}
th button{all:unset;cursor:pointer}th button:focus-visible{outline:2px solid #36c}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
tbody th{text-align:left;font-weight:500}td.num,th.num{text-align:right;
font-variant-numeric:tabular-nums}td.text{text-align:left}
td.long{white-space:normal;min-width:16rem;max-width:32rem}
tr.limit th,tr.limit td{font-style:italic;color:#555;background:#fafafa}
td.failed,td.error{color:#b00}td.unverified{color:#a60}td.contended{color:#666}
ul.legend{font-size:.8rem;padding-left:1.2rem}
figure{margin:0 0 1rem;overflow-x:auto}
figure svg{width:100%;min-width:30rem;height:auto;display:block}
.plots.wide{margin-top:1rem}.plots.wide figure svg{max-width:90rem;min-width:48rem}
figcaption{font-size:.8rem;color:#555}
.filters{display:flex;flex-wrap:wrap;gap:.3rem .5rem;align-items:center;font-size:.8rem;
margin:.3rem 0 .5rem}.filters-head{color:#555}
label.chip{display:inline-flex;align-items:center;gap:.25rem;border:1px solid #ccc;
border-radius:1rem;padding:.1rem .5rem;cursor:pointer;white-space:nowrap}
label.chip input{margin:0}label.chip.front{border-color:#888}output.shown{color:#555}
.swatch{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.3rem;
vertical-align:-.05rem}label.chip .swatch{margin-right:0}
dl.machine{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;
font-size:.85rem}dl.machine dt{color:#555}dl.machine dd{margin:0}
"""

_SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (t) {
  var head = t.tHead.rows[0];
  Array.prototype.forEach.call(head.cells, function (th, i) {
    th.querySelector("button").addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(head.cells, function (c) { c.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var num = th.classList.contains("num");
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var key = function (r) {
        var c = r.cells[i];
        if (num) { return c.hasAttribute("data-v") ? parseFloat(c.getAttribute("data-v")) : null; }
        var s = c.textContent.trim().toLowerCase();
        return s === "" ? null : s;
      };
      var pinned = rows.filter(function (r) { return r.classList.contains("limit"); });
      var rest = rows.filter(function (r) { return !r.classList.contains("limit"); });
      rest.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null || y === null) { return (x === null) - (y === null); }
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      pinned.concat(rest).forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.querySelectorAll("div.filters").forEach(function (bar) {
  var t = bar.parentNode.querySelector("table.sortable");
  var heads = Array.prototype.map.call(t.tHead.rows[0].cells,
                                       function (h) { return h.textContent.trim(); });
  var fam = heads.indexOf("family"), front = heads.indexOf("Pareto front");
  var colour = {};
  bar.querySelectorAll("input[name=family]").forEach(function (i) {
    colour[i.value] = i.nextElementSibling.style.background;
  });
  var rows = Array.prototype.filter.call(t.tBodies[0].rows,
                                         function (r) { return !r.classList.contains("limit"); });
  rows.forEach(function (r) {
    var c = r.cells[fam], f = c.textContent.trim();
    r.setAttribute("data-family", f);
    if (colour[f]) {
      var s = document.createElement("span");
      s.className = "swatch";
      s.style.background = colour[f];
      c.insertBefore(s, c.firstChild);
    }
  });
  var show = function () {
    var on = {};
    bar.querySelectorAll("input[name=family]").forEach(function (i) { on[i.value] = i.checked; });
    var box = bar.querySelector("input[name=front]"), only = box !== null && box.checked;
    var n = 0;
    rows.forEach(function (r) {
      var f = r.getAttribute("data-family");
      var ok = on[f] !== false && (!only || r.cells[front].textContent.trim() !== "");
      r.hidden = !ok;
      n += ok ? 1 : 0;
    });
    bar.querySelector("output.shown").textContent = n + " of " + rows.length + " rows shown";
  };
  bar.addEventListener("change", show);
  show();
});
"""


def _claim(records: list[Record]) -> str:
    """What the page may say about its figures: only what the records show."""
    cells = latest(records)
    ok = sum(r.status == VERIFIED for r in cells)
    if ok == len(cells):
        return "Every figure is the length of a stream that decoded back to its input."
    return (f"{ok} of {len(cells)} cells decoded back to their input; the others are marked "
            "(unverified figures, failed or error cells without a figure).")


def _timing(records: list[Record]) -> str:
    """How the speeds were measured, from the records' own timing blocks."""
    cells = [r for r in latest(records) if r.timing is not None and r.timing.encode is not None]
    if not cells:
        return "No speeds were measured."
    reps = sorted({r.timing.encode.repeats for r in cells if r.timing.encode})
    warm = all(r.timing.warm_up for r in cells)
    contended = sum(r.contended for r in cells)
    runs = f"{reps[0]}" if len(reps) == 1 else f"{reps[0]} to {reps[-1]}"
    text = (f"Speeds are {metrics.unit('encode_MBps')} of input (10^6 bytes per second): the "
            f"fastest of {runs} timed "
            f"run(s) of each direction{', after a warm-up' if warm else ''}, as lzbench "
            "reports them (column runs: encode/decode repetitions).")
    if contended:
        text += (f" {contended} cell(s) ran while other cells shared the machine (-j N or Ray): "
                 "their speeds are marked * and are not the coder's own.")
    return text


def _slug(label: str) -> str:
    return "ds-" + (re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-") or "x")


def _dataset_meta(records: list[Record], label: str) -> str:
    rec = next(r for r in records if r.dataset.label == label)
    info = rec.dataset
    size = f"{info.size:,} {metrics.symbol(info.kind)}s" + (
        f" in {info.files} files" if info.files > 1 else "")
    parts = [f"{info.kind}", size, f"sha256 {info.sha256[:12]}…"]
    if info.limit_bits is not None:
        lim = lb.formula_record(rec, lb.LIMIT_ROW, info.limit_bits)
        parts.append(f"source limit {metrics.show('bits', lim)} ({metrics.show('bpb', lim)})")
    if info.per_file:
        parts.append("each file coded on its own")
    if info.chunk_size:
        parts.append(f"independent chunks of {info.chunk_size:,} bytes")
    return " · ".join(html.escape(p) for p in parts)


def _figure(fig: Any, caption: str) -> str:
    svg = plots.to_svg(fig)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(caption)}" ', 1)
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


WIDE = 10
"""A figure wider than this (inches: the pareto plot of many codecs) gets the section's whole
width below its table; beside the table it would be scaled down past reading."""


def _plots(records: list[Record], label: str) -> tuple[str, str]:
    """The dataset's figures: (those beside the table, the wide ones below it)."""
    side, wide = [], []
    for kind, ds in plots.available(records):
        if ds != label:
            continue
        try:
            fig = plots.make(records, kind, ds)
        except UsageError:  # nothing of that kind to draw (e.g. no timed cells)
            continue
        (wide if fig.get_figwidth() > WIDE else side).append(
            _figure(fig, f"{plots.CAPTIONS.get(kind, kind)}: {label}"))
    return "".join(side), "".join(wide)


FAMILY = "family"
FRONT = "Pareto front"
ON_FRONT, SPEED_LIMIT = "yes", "speed limit"
"""The board's columns added to a dataset's table: the codec family (results.groups) of each
row, and whether the row is on the Pareto front of bits vs encode speed (the pareto plot's)."""


def board_table(records: list[Record], label: str) -> pd.DataFrame:
    """A dataset's table (leaderboard.dataset_table) with a family column first and, where
    its cells were timed, a Pareto front column: `yes` on the front, `speed limit` for copy."""
    table = lb.dataset_table(records, label)
    recs = {r.row: r for r in latest(records) if r.dataset.label == label}
    table.insert(0, FAMILY, [groups.of(recs[n].compressor.name, recs[n].compressor.family)
                             if n in recs else "" for n in table.index])
    formats = {**table.attrs.get("formats", {}), FAMILY: "text"}
    try:
        front = set(plots.front(records, label))
    except UsageError:  # no timed cell with bits: no front to draw or filter by
        front = None
    if front is not None:
        table.insert(1, FRONT, [ON_FRONT if n in front else
                                SPEED_LIMIT if table.loc[n, FAMILY] == groups.COPY else ""
                                for n in table.index])
        formats[FRONT] = "text"
    table.attrs = {**table.attrs, "formats": formats}
    return table


def _filters(table: pd.DataFrame) -> str:
    """The families of a table as chips that show or hide their rows, and the front toggle
    (the page's script does the showing; without it every row stays shown)."""
    fams = [f for f in table[FAMILY] if f]
    colour = groups.colours(fams)
    counts = Counter(fams)
    chips = "".join(
        f'<label class="chip"><input type="checkbox" name="family" value="{html.escape(f)}" '
        f'checked><span class="swatch" style="background:{colour[f]}"></span>'
        f"{html.escape(f)} <small>({counts[f]})</small></label>" for f in groups.ordered(fams))
    front = ('<label class="chip front"><input type="checkbox" name="front"> Pareto front only '
             "<small>(bits vs encode speed)</small></label>" if FRONT in table.columns else "")
    return (f'<div class="filters" role="group" aria-label="show rows by codec family">'
            f'<span class="filters-head">{FAMILY}:</span>{chips}{front}'
            f'<output class="shown"></output></div>')


def _section(records: list[Record], label: str) -> str:
    table = board_table(records, label)
    caption = f"{label}: best first by bits; click a column header to sort."
    figs, wide = _plots(records, label)
    return (f'<section id="{_slug(label)}"><h2>{html.escape(label)}</h2>'
            f'<p class="meta">{_dataset_meta(records, label)}</p>'
            f'<div class="pair"><div class="tables">{_filters(table)}'
            f"{tables.html_table(table, caption)}</div>"
            + (f'<div class="plots">{figs}</div>' if figs else "") + "</div>"
            + (f'<div class="plots wide">{wide}</div>' if wide else "") + "</section>")


def _sweeps(records: list[Record]) -> str:
    """Task families run at several sizes n: one section with their sweep plots."""
    figs = [_figure(plots.make(records, "sweep", fam), f"{plots.CAPTIONS['sweep']}: {fam}")
            for kind, fam in plots.available(records) if kind == "sweep"]
    return ('<section id="sweeps"><h2>Sweeps over n</h2><div class="plots">'
            + "".join(figs) + "</div></section>") if figs else ""


def _machines(records: list[Record]) -> str:
    """Every distinct machine and software set the records name, with how many cells each."""
    def key(r: Record) -> tuple[Any, ...]:
        e = r.reproducibility
        return (e.get("cpu"), e.get("gpu"), e.get("platform"), e.get("python"),
                e.get("mdlbench"), e.get("git_commit"),
                tuple(sorted((e.get("packages") or {}).items())))

    cells = latest(records)
    groups = Counter(key(r) for r in cells)
    out = []
    for (cpu, gpu, plat, py, ver, commit, pkgs), n in groups.most_common():
        items = [("cells", f"{n} of {len(cells)}"), ("CPU", cpu), ("GPU", gpu or "none used"),
                 ("platform", plat), ("Python", py),
                 ("mdlbench", f"{ver or '?'}" + (f" (git {commit[:12]}"
                                                 f"{'-dirty' if commit.endswith('-dirty') else ''})"
                                                 if commit else "")),
                 ("libraries", ", ".join(f"{k} {v}" for k, v in pkgs) or "not recorded")]
        out.append('<dl class="machine">' + "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v or 'not recorded'))}</dd>"
            for k, v in items) + "</dl>")
    return "".join(out)


def page(records: Sequence[Record], metric: str = "bpb", mean_rank: bool = False) -> str:
    """The whole page for these records; `mean_rank` adds the cross-dataset table (compressors ×
    datasets of `metric`, by mean rank) above the datasets' own sections."""
    records = list(records)
    labels = sorted({r.dataset.label for r in records})
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    nav = "".join(f'<li><a href="#{_slug(x)}">{html.escape(x)}</a></li>' for x in labels)
    overall = ""
    if mean_rank:
        board = lb.leaderboard(records, metric)
        overall = (f'<section id="mean-rank"><h2>All datasets by mean rank ({html.escape(metric)})'
                   f"</h2><p class='meta'>Ranks of unrelated datasets do not measure the same "
                   f"thing: read each dataset's own section first.</p>"
                   f"{tables.html_table(board)}</section>")
    body = "".join(_section(records, x) for x in labels) + _sweeps(records)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>mdlbench results</title><style>{_CSS}</style></head><body>"
        f"<header><h1>mdlbench results</h1><p>{len(labels)} dataset(s), "
        f"{len(latest(records))} cells; generated {when}. {html.escape(_claim(records))} "
        "Sizes are whole streams, headers included; Σ -log2 p is the model's ideal code "
        f"length beside them.</p><p><small>{html.escape(_timing(records))}</small></p>"
        f"<nav><ul>{nav}</ul></nav></header><main>{overall}{body}"
        f"<section id='machine'><h2>Machine and versions</h2>{_machines(records)}</section>"
        f"</main><script>{_SORT_JS}</script></body></html>\n")
