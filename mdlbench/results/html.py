"""A self-contained HTML leaderboard: the tables and every supported plot, inline SVG, no
external assets, so the file can be mailed or attached to a CI run."""

from __future__ import annotations

import html
import time

import pandas as pd

from ..errors import UsageError
from . import plots
from .record import VERIFIED, Record, latest
from .tables import html_table

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd}
th{background:#f4f4f4;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.limit td{font-style:italic;color:#555}td.failed,td.error{color:#b00}td.unverified{color:#a60}
td.contended{color:#666}td.text{text-align:left}ul.legend{font-size:.8rem;color:#555}
.plots{display:flex;flex-wrap:wrap;gap:1rem}.plots figure{margin:0;max-width:720px}
.plots svg{width:100%;height:auto}small{color:#666}
"""


def _claim(records: list[Record]) -> str:
    """What the page may say about its figures: only what the records show."""
    cells = latest(records)
    ok = sum(r.status == VERIFIED for r in cells)
    if ok == len(cells):
        return "Every figure is the length of a stream that decoded back to its input."
    return (f"{ok} of {len(cells)} cells decoded back to their input; the others are marked "
            "(unverified figures, failed or error cells without a figure).")


def page(records: list[Record], table: pd.DataFrame, metric: str) -> str:
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
            f"<p><small>{len(records)} results; generated {when}. {_claim(records)}</small></p>"
            f"{html_table(table)}<h2>Plots</h2><div class='plots'>{''.join(figs)}</div></body></html>\n")
