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

_FORMATS = {
    "bits": "{:,.0f}", "excess": "{:,.0f}", "bytes": "{:,.0f}", "count": "{:,.0f}",
    "bits_ideal": "{:,.1f}", "regret": "{:,.1f}", "compression": "{:.2f}",
    "bpb": "{:.4f}", "ratio": "{:.3f}", "speed": "{:.3g}", "spread": "{:.1f} %", "s": "{:.3g}",
}


def fmt(value: Any, kind: str) -> str:
    """A bare figure in the named format ("" for a missing one; text stays text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind in ("speed", "s") and abs(value) >= 1000:  # three significant digits, no exponent
        return f"{value:,.0f}"
    return _FORMATS.get(kind, "{}").format(value)


def text(value: Any, kind: str, mark: str | None = None) -> str:
    """A table cell: failed and error cells show their status instead of a number; unverified
    figures and contended speeds carry their sign."""
    if mark in (FAILED, ERROR):
        return mark
    shown = fmt(value, kind)
    return shown + SIGNS.get(mark or "", "") if shown else shown


def kind_of(table: pd.DataFrame, column: Any) -> str:
    if column in SPEEDS:
        return "speed"
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
    return cell.replace("|", "\\|")


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table, under its caption (metric and unit) when it has one."""
    cols = [str(c) for c in table.columns]
    first = table.index.name or ""
    cap = table.attrs.get("caption")
    lines = ([_md(cap), ""] if cap else []) + [
        f"| {first} | " + " | ".join(cols) + " |",
             "|---|" + "|".join("---:" if kind_of(table, c) != "text" else "---"
                                for c in table.columns) + "|"]
    for name, cells in rows(table):
        lines.append(f"| {_md(name)} | " + " | ".join(_md(t) for t, _ in cells) + " |")
    notes = legend(table)
    return "\n".join(lines) + "\n" + ("\n" + "  \n".join(notes) + "\n" if notes else "")


def html_table(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    first = html.escape(str(table.index.name or ""))
    head = f"<tr><th>{first}</th>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    kinds = ["text" if kind_of(table, c) == "text" else "num" for c in cols]
    body = []
    for name, cells in rows(table):
        cls = ' class="limit"' if name.startswith("(") else ""
        tds = "".join(f'<td class="{k}{" " + mark if mark else ""}">{html.escape(t)}</td>'
                      for (t, mark), k in zip(cells, kinds, strict=True))
        body.append(f"<tr{cls}><td>{html.escape(name)}</td>{tds}</tr>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in legend(table))
    return (f"<table>{head}</tr>{''.join(body)}</table>"
            + (f"<ul class='legend'>{notes}</ul>" if notes else ""))
