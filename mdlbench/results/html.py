"""A self-contained HTML leaderboard: the tables and every supported plot, inline SVG, no
external assets, so the file can be mailed or attached to a CI run."""

from __future__ import annotations

import html
import time
from typing import Any

import pandas as pd

from ..errors import UsageError
from . import plots
from .leaderboard import fmt_value

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd}
th{background:#f4f4f4;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.limit td{font-style:italic;color:#555}td.failed{color:#b00}
.plots{display:flex;flex-wrap:wrap;gap:1rem}.plots figure{margin:0;max-width:720px}
.plots svg{width:100%;height:auto}small{color:#666}
"""


def _table(table: pd.DataFrame, metric: str) -> str:
    cols = list(table.columns)
    head = "<tr><th>compressor</th>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in cols) + "</tr>"
    rows = []
    for name, row in table.iterrows():
        cls = ' class="limit"' if str(name).startswith("(") else ""
        cells = []
        for c in cols:
            v = row[c]
            if c in ("encode_MBps", "decode_MBps"):
                cells.append(f'<td class="num">{"" if pd.isna(v) else f"{v:.3g}"}</td>')
            elif c == "failed":
                cells.append(f'<td class="failed">{html.escape(str(v))}</td>')
            else:
                cells.append(f'<td class="num">{fmt_value(v, metric)}</td>')
        rows.append(f"<tr{cls}><td>{html.escape(str(name))}</td>{''.join(cells)}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def page(records: list[dict[str, Any]], table: pd.DataFrame, metric: str) -> str:
    figs = []
    for kind, ds in plots.available(records):
        try:
            svg = plots.to_svg(plots.make(records, kind, ds))
        except UsageError:  # nothing of that kind to draw
            continue
        figs.append(f"<figure>{svg}<figcaption><small>{kind}{' — ' + html.escape(ds) if ds else ''}"
                    f"</small></figcaption></figure>")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>mdlbench leaderboard</title>"
            f"<style>{_CSS}</style></head><body><h1>mdlbench leaderboard ({html.escape(metric)})</h1>"
            f"<p><small>{len(records)} results; generated {when}. Every figure is the length of a "
            f"stream that decoded back to its input.</small></p>{_table(table, metric)}"
            f"<h2>Plots</h2><div class='plots'>{''.join(figs)}</div></body></html>\n")
