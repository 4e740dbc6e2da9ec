"""Tables from records, with pandas (the newest record of each cell; see record.latest):

- `leaderboard`: compressors as rows, datasets as columns, best first, with mean speeds; where a
  dataset has a known source limit (synthetic data) it is a row of its own, so every coder is
  read against the bound no coder can beat, and so are the code lengths a dataset states by
  formula (NML and its Fisher asymptotic, the Laplace code of the logistic class, the source
  limit plus the generating program): rows in parentheses, never streams. Its `caption` says
  which metric it shows, in which unit;
- `parts_table`: compressed bytes per file of --per-file runs, as published Canterbury tables;
- `cells_table`: one row per cell with everything measured (the benchmark view);
- `spread_table`: the same cells in repeated runs, and how far their speeds moved.

Each table carries in `attrs` how to read it (results.tables), and every renderer goes through
that one formatter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from . import tables
from .record import ERROR, FAILED, METRICS, UNVERIFIED, VERIFIED, Record, latest

HIGHER_IS_BETTER = ("ratio", "compression")
VIEWS = ("board", "parts", "cells", "spread")
LIMIT_ROW = "(source limit)"
SHOWN = (VERIFIED, UNVERIFIED)


def frame(records: Sequence[Record]) -> pd.DataFrame:
    """One row per cell: the newest record of each."""
    rows = [{
        "dataset": r.dataset.label,
        "compressor": r.row,
        "family": r.compressor.family, "seed": r.seed, "size": r.dataset.size,
        "bits": r.bits, "bits_ideal": r.bits_ideal, "bpb": r.bpb, "ratio": r.ratio,
        "encode_MBps": r.encode_MBps, "decode_MBps": r.decode_MBps, "status": r.status,
        "contended": r.contended, "limit_bits": r.dataset.limit_bits, "created": r.created,
        "kind": r.dataset.kind, "ml_bits": r.dataset.ml_bits,
        "uniform_bits": r.dataset.uniform_bits, "model_class": r.dataset.model_class,
        "formulas": r.dataset.formulas,
    } for r in latest(records)]
    return pd.DataFrame(rows)


def _metric(df: pd.DataFrame, metric: str) -> pd.Series:
    """A metric from the bits and the dataset's figures; NaN where they do not define it."""
    bits = df["bits"].astype(float)
    if metric == "bits":
        return bits
    if metric == "bits_ideal":  # Σ -log2 p under the coder's model (model-based coders only)
        return df["bits_ideal"].astype(float)
    if metric == "bpb":
        return bits / df["size"]
    if metric == "excess":  # bits above the source's exact code length (synthetic data only)
        return bits - df["limit_bits"].astype(float)
    if metric == "regret":  # bits above the best model of the dataset's class in hindsight
        return bits - df["ml_bits"].astype(float)
    if metric == "compression":  # uniform code length n·log2 K over this code length
        return df["uniform_bits"].astype(float) / bits.replace(0, np.nan)
    return 8 * df["size"] / bits.replace(0, np.nan)


_UNITS = {
    "bits": "bits of the real stream, headers included",
    "bits_ideal": "Σ -log2 p in bits under the coder's model (no stream overhead; model-based "
                  "coders only)",
    "ratio": "original bits / coded bits",
    "excess": "bits above the source limit (-log2 P(sample) under the true source)",
    "compression": "uniform code length n·log2 K / code length (K: the dataset's alphabet or "
                   "classes)",
}


def caption(metric: str, df: pd.DataFrame) -> str:
    """What the board shows and in which unit: bits per label for labelled data, not per byte."""
    kinds = set(df["kind"]) if "kind" in df else set()
    if metric == "bpb":
        per = {"labelled": "label", "synthetic": "symbol", "algorithmic": "symbol"}
        units = sorted({per.get(k, "byte") for k in kinds}) or ["byte"]
        unit = "bits per " + units[0] if len(units) == 1 else (
            "bits per byte of data: " + ", ".join(f"per {u}" for u in units) + " (one byte each)")
        return f"{metric}: {unit}"
    if metric == "regret":
        classes = df.drop_duplicates("dataset").dropna(subset=["model_class"])
        stated = "; ".join(f"{d}: {c}" for d, c in zip(classes["dataset"], classes["model_class"],
                                                        strict=True)) or "none stated"
        return (f"regret: bits above the best model of the dataset's class in hindsight "
                f"(-log2 of the maximised likelihood); classes: {stated}")
    return f"{metric}: {_UNITS[metric]}"


def _worst(statuses: Sequence[str]) -> str | None:
    """The mark a cell of several records (seeds) gets: its most serious status."""
    for s in (ERROR, FAILED, UNVERIFIED):
        if s in statuses:
            return s
    return None


def leaderboard(records: Sequence[Record], metric: str = "bpb") -> pd.DataFrame:
    """Pivot: compressors × datasets of `metric` (mean over seeds), plus mean speeds; best first.

    A cell whose round trip failed (or that could not run) shows no figure: a number that did
    not decode back is not a result. Unverified figures and contended speeds are marked, and the
    `notes` column says which cells of a row are which.
    """
    if metric not in METRICS:
        raise UsageError(f"unknown metric {metric!r} (known: {', '.join(METRICS)})")
    df = frame(records)
    if df.empty:
        return pd.DataFrame()
    shown = df["status"].isin(SHOWN)
    df = df.assign(value=_metric(df, metric).where(shown))
    table = df.pivot_table(index="compressor", columns="dataset", values="value",
                           aggfunc="mean", dropna=False)
    ok = df[shown]
    spread = ok.pivot_table(index="compressor", columns="dataset", values="value", aggfunc="std")
    counts = ok.pivot_table(index="compressor", columns="dataset", values="value", aggfunc="count")
    marks: dict[tuple[str, Any], str] = {}
    notes: dict[str, list[str]] = {}
    for (comp, ds), g in df.groupby(["compressor", "dataset"]):
        mark = _worst(list(g["status"]))
        if mark is not None:
            marks[(comp, ds)] = mark
        if mark in (FAILED, ERROR):
            table.loc[comp, ds] = np.nan
    for comp, g in df.groupby("compressor"):
        notes[comp] = [f"{s}: {', '.join(sorted(set(g.loc[g['status'] == s, 'dataset'])))}"
                       for s in (FAILED, ERROR, UNVERIFIED) if (g["status"] == s).any()]
    for row, ds, v in _formula_rows(df, metric):
        table.loc[row, ds] = v
    speeds = ok.groupby("compressor")[list(tables.SPEEDS)].mean()
    for comp in ok.loc[ok["contended"], "compressor"].unique():
        notes[comp].append("contended speeds")
        for c in tables.SPEEDS:
            marks[(comp, c)] = tables.CONTENDED
    cols = list(table.columns)
    multi = [c for c in cols if c in counts.columns and (counts[c] > 1).any()]
    for c in multi:  # stochastic coders over several seeds: mean ± std (sample std)
        table[f"{c} ±std"] = spread[c].reindex(table.index)
    table = table[[x for c in cols for x in ([c, f"{c} ±std"] if c in multi else [c])]]
    table = table.join(speeds, how="left")
    table["notes"] = pd.Series({c: "; ".join(n) for c, n in notes.items()}).reindex(
        table.index).fillna("")
    score = table[cols].rank(ascending=metric not in HIGHER_IS_BETTER).mean(axis=1)
    table = table.assign(_score=score).sort_values("_score").drop(columns="_score")
    table.index.name = "compressor"
    table.attrs = {"metric": metric, "formats": {"notes": "text"}, "marks": marks,
                   "caption": caption(metric, df)}
    return table


def _formula_rows(df: pd.DataFrame, metric: str) -> list[tuple[str, str, float]]:
    """(row, dataset, value) of the rows a dataset states by formula, not by a stream: the
    source limit and its `formulas`, each read as a code length of that many (ideal) bits."""
    out = []
    for rec in df.drop_duplicates("dataset").to_dict("records"):
        rows = {LIMIT_ROW: rec["limit_bits"], **(rec["formulas"] or {})}
        for row, bits in rows.items():
            if bits is None or (isinstance(bits, float) and np.isnan(bits)):
                continue
            one = pd.DataFrame([{**rec, "bits": bits, "bits_ideal": bits}])
            out.append((row, rec["dataset"], float(_metric(one, metric).iloc[0])))
    return out


def parts_table(records: Sequence[Record]) -> pd.DataFrame:
    """Per-file compressed bytes of --per-file runs (compressors × files, plus the total), as
    published Canterbury tables show them; a file whose round trip failed shows no figure."""
    recs = sorted((r for r in latest(records) if r.parts), key=lambda r: r.created)
    if not recs:
        raise UsageError("no per-file results (run with --per-file)")
    one_dataset = len({r.dataset.label for r in recs}) == 1
    rows: dict[str, dict[str, int | None]] = {}
    marks: dict[tuple[str, Any], str] = {}
    for r in recs:
        name = r.compressor.spec if one_dataset else f"{r.compressor.spec} on {r.dataset.label}"
        row = {p.name: None if p.bits is None or p.error else p.bits // 8 for p in r.parts}
        row["total"] = None if r.bits is None else r.bits // 8
        rows[name] = row
        for p in r.parts:
            if p.error or r.status == UNVERIFIED:
                marks[(name, p.name)] = r.status
        if r.status != VERIFIED:
            marks[(name, "total")] = r.status
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table.assign(_t=table["total"].where(
        [marks.get((n, "total")) not in (FAILED, ERROR) for n in table.index])).sort_values(
        "_t").drop(columns="_t")
    table.index.name = "compressor"
    table.attrs = {"metric": "bytes", "marks": marks}
    return table


def _extras_text(extras: dict[str, Any]) -> str:
    """A coder's scalar figures (regret bound, KL, uniform bits...), compactly."""
    out = []
    for k, v in extras.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        out.append(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(out)


def cells_table(records: Sequence[Record]) -> pd.DataFrame:
    """One row per cell with what was measured: bits, the coding overhead over Σ -log2 p, the
    excess over the source limit, encode and decode speed side by side (fastest repetition;
    per CPU-second too), repetitions, peak memory, status and the coder's scalar extras."""
    recs = sorted(latest(records), key=lambda r: (r.dataset.label, r.bits is None, r.bits or 0))
    if not recs:
        return pd.DataFrame()
    rows, marks = {}, {}
    for r in recs:
        t = r.timing
        enc, dec = (t.encode, t.decode) if t else (None, None)
        name = r.name
        rows[name] = {
            "bits": r.bits, "bpb": r.bpb,
            "bits - ideal": None if r.bits is None or r.bits_ideal is None
            else r.bits - r.bits_ideal,
            "excess": r.excess_bits, "regret": r.regret_bits,
            "encode_MBps": r.encode_MBps, "decode_MBps": r.decode_MBps,
            "decode/encode": (r.decode_MBps / r.encode_MBps
                              if r.decode_MBps and r.encode_MBps else None),
            "encode_cpu_MBps": (r.dataset.size / enc.cpu_s / 1e6
                                if enc and enc.cpu_s else None),
            "repeats": f"{enc.repeats if enc else 0}/{dec.repeats if dec else 0}",
            "peak_MB": r.peak_rss_mb, "status": "" if r.status == VERIFIED else r.status,
            "extras": _extras_text(r.extras),
        }
        if r.status != VERIFIED:
            for c in ("bits", "bpb"):
                marks[(name, c)] = r.status
        if r.contended:
            for c in tables.SPEEDS:
                marks[(name, c)] = tables.CONTENDED
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "cell"
    table.attrs = {"metric": "bits", "marks": marks, "formats": {
        "bpb": "bpb", "decode/encode": "ratio", "encode_cpu_MBps": "speed",
        "repeats": "text", "peak_MB": "count", "status": "text", "extras": "text"}}
    return table


def spread_table(runs: Sequence[Sequence[Record]]) -> pd.DataFrame:
    """Cells found in every one of several runs: each run's speeds and their spread (max/min - 1),
    to see how far the timing method moves between identical runs."""
    if len(runs) < 2:
        raise UsageError("--view spread compares two or more results folders (repeated runs)")
    by_run = [{r.cell: r for r in latest(run) if r.has_bits} for run in runs]
    common = [c for c in by_run[0] if all(c in b for b in by_run[1:])]
    if not common:
        raise UsageError("these results folders share no finished cell")
    rows: dict[str, dict[str, Any]] = {}
    marks: dict[tuple[str, Any], str] = {}
    for cell in sorted(common, key=str):
        recs = [b[cell] for b in by_run]
        name = recs[0].name
        first = recs[0].timing.encode if recs[0].timing else None
        row: dict[str, Any] = {"encode_s": first.min_s if first else None}
        for d in ("encode", "decode"):
            speeds = [getattr(r, f"{d}_MBps") for r in recs]
            for i, (v, r) in enumerate(zip(speeds, recs, strict=True), 1):
                row[f"{d} MB/s, run {i}"] = v
                if r.contended:
                    marks[(name, f"{d} MB/s, run {i}")] = tables.CONTENDED
            ok = [v for v in speeds if v]
            row[f"{d} spread"] = 100 * (max(ok) / min(ok) - 1) if len(ok) == len(speeds) else None
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "cell"
    formats = {c: "speed" for c in table.columns if "MB/s" in c}
    formats.update({"encode_s": "s", "encode spread": "spread", "decode spread": "spread"})
    table.attrs = {"metric": "speed", "marks": marks, "formats": formats}
    return table


def render(table: pd.DataFrame, fmt: str) -> str:
    """Text forms of a table: md, html (a table element), csv, json."""
    if fmt == "csv":
        return table.to_csv(float_format="%.6g")
    if fmt == "json":
        return table.reset_index().to_json(orient="records", indent=2)
    if fmt == "md":
        return tables.markdown(table)
    if fmt == "html":
        return tables.html_table(table)
    raise UsageError(f"unknown format {fmt!r}")
