"""How a result table reads, whichever way it is shown: one cell formatter and one set of marks
for the terminal (rich, in the CLI), Markdown and HTML, so a figure never looks different, and
is never shown unmarked, in one of them.

A table is a DataFrame built in results.leaderboard; its `attrs` say how to read it:
`formats` (column -> format name, default the table's `metric`) and `marks` ((row, column) ->
a status from results.record or "contended").
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator
from typing import Any

import pandas as pd

from . import metrics
from .record import ERROR, FAILED, UNVERIFIED

CONTENDED = "contended"
SPEEDS = ("encode_MBps", "decode_MBps")
SIGNS = {UNVERIFIED: "†", CONTENDED: "*"}
"""Marks appended to a figure that is shown but not to be taken at face value."""
LEGEND = {
    UNVERIFIED: "† not decoded back (run with --no-verify)",
    CONTENDED: "* speed measured while other cells ran at the same time (-j N or Ray): not the "
               "coder's own speed",
    FAILED: "failed: the stream did not decode back to the input (no figure is shown)",
    ERROR: "error: the cell could not run (no stream, no figure)",
}

_FORMATS = {"bytes": metrics.fixed(0, grouped=True), "count": metrics.fixed(0, grouped=True),
            "spread": lambda v: f"{v:.1f} %", "speed": metrics.sig3, "s": metrics.sig3}
"""Formats of the columns that are no metric (a metric's format is its own: results.metrics)."""


def fmt(value: Any, kind: str) -> str:
    """A bare figure in the named format: a metric's, or one of `_FORMATS` ("" for a missing
    figure; text stays text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind in metrics.TABLE:
        return metrics.get(kind).fmt(value)
    return _FORMATS[kind](value) if kind in _FORMATS else str(value)


def text(value: Any, kind: str, mark: str | None = None) -> str:
    """A table cell: failed and error cells show their status instead of a number; unverified
    figures and contended speeds carry their sign."""
    if mark in (FAILED, ERROR):
        return mark
    shown = fmt(value, kind)
    return shown + SIGNS.get(mark or "", "") if shown else shown


def higher_is_better(kind: str) -> bool:
    """Whether a larger figure of this column kind is the better one (speeds, ratios)."""
    return metrics.higher_is_better(kind) if kind in metrics.TABLE else kind in ("speed", "ratio")


def kind_of(table: pd.DataFrame, column: Any) -> str:
    if column in SPEEDS:
        return column
    return table.attrs.get("formats", {}).get(column, table.attrs.get("metric", "bpb"))


def rows(table: pd.DataFrame) -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    """(row name, [(cell text, mark), ...]) for every row: what each renderer lays out."""
    marks = table.attrs.get("marks", {})
    cols = list(table.columns)
    kinds = [kind_of(table, c) for c in cols]
    for name, row in table.iterrows():
        cells = []
        for c, k in zip(cols, kinds, strict=True):
            mark = marks.get((name, c))
            cells.append((text(row[c], k, mark), mark))
        yield str(name), cells


def legend(table: pd.DataFrame) -> list[str]:
    """What the marks used in this table mean, one line each."""
    used = set(table.attrs.get("marks", {}).values())
    return [line for mark, line in LEGEND.items() if mark in used]


def _md(cell: str) -> str:
    """A Markdown table cell: HTML markup (`&`, `<`, `>`, which Markdown renders) as entities,
    `|` escaped, a line break (a file name may hold one) as <br>."""
    cell = cell.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return cell.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>").replace(
        "\r", "<br>")


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table, under its caption (metric and unit) when it has one."""
    cols = [str(c) for c in table.columns]
    first = table.index.name or ""
    cap = table.attrs.get("caption")
    lines = ([_md(cap), ""] if cap else []) + [
        f"| {_md(first)} | " + " | ".join(map(_md, cols)) + " |",
             "|---|" + "|".join("---:" if kind_of(table, c) != "text" else "---"
                                for c in table.columns) + "|"]
    for name, cells in rows(table):
        lines.append(f"| {_md(name)} | " + " | ".join(_md(t) for t, _ in cells) + " |")
    notes = legend(table)
    return "\n".join(lines) + "\n" + ("\n" + "  \n".join(notes) + "\n" if notes else "")


def _sort_value(value: Any) -> str | None:
    """The number a browser sorts a cell by (None for text and blanks)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else repr(float(value))


def html_table(table: pd.DataFrame, caption: str | None = None) -> str:
    """A sortable table element (results.html's script sorts any `table.sortable` by the
    `data-v` of its cells), inside a container that scrolls sideways on its own, so a wide
    table never widens the page."""
    cols = list(table.columns)
    first = html.escape(str(table.index.name or ""))

    def th(label: str, cls: str) -> str:
        return (f'<th scope="col" class="{cls}"><button type="button">{label}</button></th>')

    kinds = ["num" if kind_of(table, c) != "text" else
             "text long" if table[c].astype(str).str.len().max() > 40 else "text" for c in cols]
    head = th(first, "text") + "".join(th(html.escape(str(c)), k)
                                       for c, k in zip(cols, kinds, strict=True))
    body = []
    for (name, cells), (_, raw) in zip(rows(table), table.iterrows(), strict=True):
        cls = ' class="limit"' if name.startswith("(") else ""
        tds = []
        for (t, mark), k, v in zip(cells, kinds, raw, strict=True):
            sort = _sort_value(v) if k == "num" and mark not in (FAILED, ERROR) else None
            attr = f' data-v="{sort}"' if sort is not None else ""
            tds.append(f'<td class="{k}{" " + mark if mark else ""}"{attr}>{html.escape(t)}</td>')
        body.append(f'<tr{cls}><th scope="row">{html.escape(name)}</th>{"".join(tds)}</tr>')
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in legend(table))
    cap = f'<p class="caption">{html.escape(caption)}</p>' if caption else ""
    return (f'{cap}<div class="scroll"><table class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            + (f"<ul class='legend'>{notes}</ul>" if notes else ""))
