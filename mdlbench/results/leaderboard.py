"""Leaderboards from records, with pandas: compressors as rows, datasets as columns, best first.

Where a dataset has a known source limit (synthetic data), it appears as its own row, so every
coder is read against the bound no coder can beat.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import spec as specmod
from ..errors import UsageError

METRICS = ("bits", "bpb", "ratio", "excess")
LIMIT_ROW = "(source limit)"


def _unseeded(spec: str) -> str:
    """The spec without its seed: the runs of one stochastic coder over seeds share a row."""
    s = specmod.parse(spec)
    return str(specmod.Spec(s.name, tuple((k, v) for k, v in s.params if k != "seed")))


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per record, newest last; later duplicates of a cell replace earlier ones."""
    rows = []
    for r in records:
        ds = r["dataset"]
        rows.append({
            "dataset": ds["label"],
            "compressor": (r["compressor"]["spec"] if r.get("seed") is None
                           else _unseeded(r["compressor"]["spec"])),
            "family": r["compressor"].get("family", ""), "seed": r.get("seed"),
            "size": ds["size"], "bits": r["bits"], "bits_ideal": r.get("bits_ideal"),
            "bpb": r["bpb"], "ratio": r.get("ratio"), "encode_MBps": r.get("encode_MBps"),
            "decode_MBps": r.get("decode_MBps"), "verified": r.get("verified"),
            "limit_bits": ds.get("limit_bits"), "created": r.get("created", ""),
        })
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df = df.sort_values("created").drop_duplicates(["dataset", "compressor", "seed"], keep="last")
    return df.reset_index(drop=True)


def _metric(df: pd.DataFrame, metric: str) -> pd.Series:
    if metric == "bits":
        return df["bits"].astype(float)
    if metric == "bpb":
        return df["bits"] / df["size"]
    if metric == "excess":  # bits above the source's exact code length (synthetic data only)
        return df["bits"] - df["limit_bits"].astype(float)
    return 8 * df["size"] / df["bits"].replace(0, np.nan)


def leaderboard(records: list[dict[str, Any]], metric: str = "bpb") -> pd.DataFrame:
    """Pivot: compressors × datasets of `metric` (mean over seeds), plus mean speeds; best first.

    Failed (unverified) cells are shown as NaN and flagged in the `failed` column: a number that
    did not decode back is not a result.
    """
    if metric not in METRICS:
        raise UsageError(f"unknown metric {metric!r} (known: {', '.join(METRICS)})")
    df = frame(records)
    if df.empty:
        return pd.DataFrame()
    failed_mask = df["verified"] == False  # noqa: E712  (None = not verified on request)
    df = df.assign(value=_metric(df, metric).where(~failed_mask))
    table = df.pivot_table(index="compressor", columns="dataset", values="value",
                           aggfunc="mean", dropna=False)
    ok = df[~failed_mask]
    spread = ok.pivot_table(index="compressor", columns="dataset", values="value", aggfunc="std")
    counts = ok.pivot_table(index="compressor", columns="dataset", values="value", aggfunc="count")
    limits = df.dropna(subset=["limit_bits"]).drop_duplicates("dataset")
    if not limits.empty:
        lim = limits.assign(bits=limits["limit_bits"])
        lim_value = _metric(lim, metric)
        for ds, v in zip(lim["dataset"], lim_value, strict=True):
            table.loc[LIMIT_ROW, ds] = v
    speeds = ok.groupby("compressor")[["encode_MBps", "decode_MBps"]].mean()
    failed = df[failed_mask].groupby("compressor")["dataset"].apply(
        lambda s: ", ".join(sorted(set(s))))
    cols = list(table.columns)
    multi = [c for c in cols if c in counts.columns and (counts[c] > 1).any()]
    for c in multi:  # stochastic coders over several seeds: mean ± std (sample std)
        table[f"{c} ±std"] = spread[c].reindex(table.index)
    table = table[[x for c in cols for x in ([c, f"{c} ±std"] if c in multi else [c])]]
    table = table.join(speeds, how="left")
    table["failed"] = failed.reindex(table.index).fillna("")
    ascending = metric != "ratio"
    score = table[cols].rank(ascending=ascending).mean(axis=1)
    table = table.assign(_score=score).sort_values("_score").drop(columns="_score")
    table.index.name = "compressor"
    return table


def render(table: pd.DataFrame, fmt: str, metric: str) -> str:
    """Text forms of a leaderboard (table/md/csv/json); `table` is rendered by the CLI with rich."""
    if fmt == "csv":
        return table.to_csv(float_format="%.6g")
    if fmt == "json":
        return table.reset_index().to_json(orient="records", indent=2)
    if fmt == "md":
        return _markdown(table, metric)
    if fmt == "html":
        return table.to_html(float_format=lambda v: f"{v:,.4f}", na_rep="")
    raise UsageError(f"unknown format {fmt!r}")


def fmt_value(v: Any, metric: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, str):
        return v
    if metric in ("bits", "excess"):
        return f"{v:,.0f}"
    return f"{v:.4f}" if metric == "bpb" else f"{v:.3f}"


def _markdown(table: pd.DataFrame, metric: str) -> str:
    cols = list(table.columns)
    head = "| compressor | " + " | ".join(cols) + " |"
    sep = "|---|" + "|".join("---:" for _ in cols) + "|"
    lines = [head, sep]
    for name, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if c in ("encode_MBps", "decode_MBps"):
                cells.append("" if pd.isna(v) else f"{v:.3g}")
            else:
                cells.append(fmt_value(v, metric))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parts_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Per-file compressed bytes of --per-file runs (compressors × files, plus the total), as
    published Canterbury tables show them; a file whose round trip failed is left empty."""
    rows = {}
    latest = frame(records)
    keep = {(d, c) for d, c in zip(latest["dataset"], latest["compressor"], strict=True)}
    for r in sorted(records, key=lambda r: r.get("created", "")):
        key = (r["dataset"]["label"], r["compressor"]["spec"])
        if not r.get("parts") or key not in keep:
            continue
        row = {p["name"]: (p["bits"] // 8 if p.get("bits") is not None and "error" not in p else None)
               for p in r["parts"]}
        row["total"] = r["bits"] // 8
        rows[key[1] if len({k[0] for k in keep}) == 1 else f"{key[1]} on {key[0]}"] = row
    if not rows:
        raise UsageError("no per-file results (run with --per-file)")
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("total")
