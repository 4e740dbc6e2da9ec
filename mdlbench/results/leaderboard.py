"""Tables from records, with pandas (the newest record of each cell; see record.latest):

- `leaderboard`: compressors as rows, datasets as columns, best first, with mean speeds; where a
  dataset has a known source limit (synthetic data) it is a row of its own, so every coder is
  read against the bound no coder can beat, and so are the code lengths a dataset states by
  formula (NML and its Fisher asymptotic, the Laplace code of the logistic class, the source
  limit plus the generating program): rows in parentheses, never streams. Its `caption` says
  which metric it shows, in which unit;
- `parts_table`: compressed bytes per file of --per-file runs, as published Canterbury tables;
- `cells_table`: one row per cell with everything measured (the benchmark view);
- `spread_table`: the same cells in repeated runs, and how far their speeds moved;
- `dataset_table`: one dataset's results in full (sizes, ratio, bits, bits per symbol, speeds,
  how they were timed, the coder's library), as the HTML page shows each dataset.

`select` filters records by dataset and compressor (glob patterns) before any table is built;
`sort_table` orders any table by one of its columns, best first.

Each table carries in `attrs` how to read it (results.tables), and every renderer goes through
that one formatter.
"""

from __future__ import annotations

import fnmatch
import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from . import tables
from .record import ERROR, FAILED, METRICS, UNVERIFIED, VERIFIED, Record, latest

HIGHER_IS_BETTER = ("ratio", "compression")
"""Metrics and column kinds where the larger figure is the better one (speeds too)."""

VIEWS = ("board", "parts", "cells", "spread")
LIMIT_ROW = "(source limit)"
SHOWN = (VERIFIED, UNVERIFIED)


def frame(records: Sequence[Record]) -> pd.DataFrame:
    """One row per cell (the newest record of each), one column per variable: the tidy long
    form every table here pivots from, and what `mdlbench.results_frame` returns."""
    rows = []
    for r in latest(records):
        t, env = r.timing, r.reproducibility
        enc, dec = (t.encode, t.decode) if t else (None, None)
        rows.append({
            "dataset": r.dataset.label, "dataset_name": r.dataset.name, "kind": r.dataset.kind,
            "unit": tables.unit_of(r.dataset.kind), "size": r.dataset.size,
            "files": r.dataset.files, "compressor": r.row, "spec": r.compressor.spec,
            "name": r.compressor.name, "family": r.compressor.family,
            "library": r.compressor.library, "version": r.compressor.version, "seed": r.seed,
            "status": r.status, "bits": r.bits, "bits_ideal": r.bits_ideal,
            "bits_with_model": r.bits_with_model, "bpb": r.bpb,
            "ratio": r.ratio, "limit_bits": r.dataset.limit_bits, "excess_bits": r.excess_bits,
            "encode_MBps": r.encode_MBps, "decode_MBps": r.decode_MBps,
            "encode_s": enc.min_s if enc else None, "decode_s": dec.min_s if dec else None,
            "encode_repeats": enc.repeats if enc else None,
            "decode_repeats": dec.repeats if dec else None,
            "contended": r.contended, "cells_at_once": t.cells_at_once if t else None,
            "peak_rss_mb": r.peak_rss_mb, "error": r.error, "created": r.created,
            "cpu": env.get("cpu"), "gpu": env.get("gpu"), "python": env.get("python"),
            "mdlbench": env.get("mdlbench"), "git_commit": env.get("git_commit"),
            "key": r.key, "path": r.path, "ml_bits": r.dataset.ml_bits,
            "uniform_bits": r.dataset.uniform_bits, "model_class": r.dataset.model_class,
            "formulas": r.dataset.formulas,
        })
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
    if metric == "adjusted":  # bits per byte with a pretrained model's size counted (LMIC)
        return df["bits_with_model"].astype(float) / df["size"]
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
    "adjusted": "bits per byte with a pretrained model's parameters counted at their stored "
                "precision (LMIC's adjusted rate; bpb for coders that send no model)",
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
    coders = table.drop(index=_pinned(table))
    score = coders[cols].rank(ascending=metric not in HIGHER_IS_BETTER).mean(axis=1)
    table = table.reindex(_pinned(table) + list(score.sort_values(kind="stable").index))
    table.index.name = "compressor"
    table.attrs = {"metric": metric, "formats": {"notes": "text"}, "marks": marks,
                   "sort": "mean rank over the datasets of each row",
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
            one = pd.DataFrame([{**rec, "bits": bits, "bits_ideal": bits, "bits_with_model": bits}])
            out.append((row, rec["dataset"], float(_metric(one, metric).iloc[0])))
    return out


def _pinned(table: pd.DataFrame) -> list[Any]:
    """The rows that stay on top however a table is sorted: the source limit, and the code
    lengths a dataset states by formula, are what every row is read against, not competitors."""
    rows = [r for r in table.index if str(r).startswith("(")]
    return sorted(rows, key=lambda r: r != LIMIT_ROW)


def _matches(patterns: Sequence[str], *names: str) -> bool:
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)


def select(records: Sequence[Record], datasets: Sequence[str] = (),
           compressors: Sequence[str] = ()) -> list[Record]:
    """The records whose dataset (label or name) matches one of `datasets` and whose compressor
    (spec, table row or name) matches one of `compressors`: glob patterns (`markov*`,
    `zstd:level=1?`); an empty list keeps all. Nothing left is a usage error that lists what
    there was."""
    out = [r for r in records
           if (not datasets or _matches(datasets, r.dataset.label, r.dataset.name))
           and (not compressors or _matches(compressors, r.compressor.spec, r.row,
                                            r.compressor.name))]
    if not out:
        have = sorted({r.dataset.label for r in records}) if datasets else sorted(
            {r.row for r in records})
        what = " ".join([f"--dataset {' '.join(datasets)}"] * bool(datasets)
                        + [f"--compressor {' '.join(compressors)}"] * bool(compressors))
        raise UsageError(f"no results match {what} (there are: {', '.join(have)})")
    return out


def sort_table(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """`table` ordered by `column` (exact name, or a glob that names one column), best first:
    ascending for sizes and bits, descending for ratios and speeds; blanks (failed cells) last,
    the source limit on top."""
    if table.empty:
        return table
    names = [str(c) for c in table.columns]
    if column in names:
        col = table.columns[names.index(column)]
    else:
        hits = [c for c, n in zip(table.columns, names, strict=True)
                if fnmatch.fnmatchcase(n, column)]
        if len(hits) != 1:
            raise UsageError(f"cannot sort by {column!r}: "
                             f"{'it names several columns' if hits else 'no such column'} "
                             f"(columns: {', '.join(names)})")
        col = hits[0]
    kind = tables.kind_of(table, col)
    rest = table.drop(index=_pinned(table))
    marks = table.attrs.get("marks", {})
    key = pd.Series([None if marks.get((i, col)) in (FAILED, ERROR) else v
                     for i, v in rest[col].items()], index=rest.index)
    if kind == "text":
        order = key.fillna("").astype(str).str.lower().sort_values(kind="stable")
        order = pd.concat([order[order != ""], order[order == ""]])
    else:
        higher = kind in HIGHER_IS_BETTER or kind == "speed"
        order = pd.to_numeric(key, errors="coerce").sort_values(
            ascending=not higher, na_position="last", kind="stable")
    out = table.reindex(_pinned(table) + list(order.index))
    out.attrs = {**table.attrs, "sort": str(col)}
    return out


def dataset_table(records: Sequence[Record], label: str) -> pd.DataFrame:
    """One dataset in full, one row per compressor (seeds averaged, their spread shown): the
    compressed size, ratio, bits and bits per symbol (per label for labelled data), Σ -log2 p,
    speeds (fastest repetition) with how many repetitions were timed, and the coder's library.
    The source limit, where the dataset has one, is the first row. Rows are ordered by bits;
    failed and error cells come last, with no figure."""
    recs = [r for r in latest(records) if r.dataset.label == label]
    if not recs:
        raise UsageError(f"no results for dataset {label!r}")
    info = recs[0].dataset
    per = f"bits/{tables.unit_of(info.kind)}"
    by_row: dict[str, list[Record]] = {}
    for r in recs:
        by_row.setdefault(r.row, []).append(r)
    seeded = any(len(rs) > 1 for rs in by_row.values())
    rows: dict[str, dict[str, Any]] = {}
    marks: dict[tuple[str, Any], str] = {}
    if info.limit_bits is not None:
        lim = info.limit_bits
        rows[LIMIT_ROW] = {"bytes": lim / 8, "ratio": 8 * info.size / lim if lim else None,
                           "bits": lim, per: lim / max(info.size, 1),
                           "notes": "exact code length under the true source"}
    for name, rs in by_row.items():
        ok = [r for r in rs if r.has_bits]
        mark = _worst([r.status for r in rs])
        bits = [float(r.bits) for r in ok if r.bits is not None]
        mean = statistics.fmean(bits) if bits and len(ok) == len(rs) else None
        ideal = [r.bits_ideal for r in ok if r.bits_ideal is not None]
        enc = [r.encode_MBps for r in ok if r.encode_MBps]
        dec = [r.decode_MBps for r in ok if r.decode_MBps]
        first = rs[0]
        t = first.timing
        reps = (f"{t.encode.repeats if t.encode else 0}/{t.decode.repeats if t.decode else 0}"
                if t else "")
        row: dict[str, Any] = {
            "bytes": None if mean is None else math.ceil(mean / 8),
            "ratio": None if not mean else 8 * info.size / mean,
            "bits": mean, per: None if mean is None else mean / max(info.size, 1)}
        if seeded:
            row[f"{per} ±std"] = (statistics.stdev(bits) / max(info.size, 1)
                                  if len(bits) > 1 else None)
        row.update({
            "Σ -log2 p": statistics.fmean(ideal) if ideal and len(ideal) == len(rs) else None,
            "encode MB/s": statistics.fmean(enc) if enc else None,
            "decode MB/s": statistics.fmean(dec) if dec else None,
            "runs": reps,
            "library": f"{first.compressor.library} {first.compressor.version}".strip(),
            "notes": _row_notes(rs),
        })
        rows[name] = row
        if mark is not None:
            marks[(name, "bits")] = mark
            if mark == UNVERIFIED:
                for c in ("bytes", "ratio", per):
                    marks[(name, c)] = mark
        if any(r.contended for r in ok):
            for c in ("encode MB/s", "decode MB/s"):
                marks[(name, c)] = tables.CONTENDED
    formats = {"bytes": "bytes", "ratio": "ratio", "bits": "bits", per: "bpb",
               f"{per} ±std": "bpb", "Σ -log2 p": "bits", "encode MB/s": "speed",
               "decode MB/s": "speed", "runs": "text", "library": "text", "notes": "text"}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table[[c for c in formats if c in table.columns]]
    table.index.name = "compressor"
    table.attrs = {"metric": "bits", "marks": marks, "formats": formats, "unit": per}
    return sort_table(table, "bits")


def _row_notes(rs: list[Record]) -> str:
    """Why a row's figures are marked, and over which seeds it is a mean."""
    notes = []
    for r in rs:
        if r.status in (FAILED, ERROR):
            why = " ".join((r.error or "").split())
            notes.append(f"{r.status}{'' if r.seed is None else f' (seed {r.seed})'}"
                         + (f": {why[:120]}" if why else ""))
    if any(r.status == UNVERIFIED for r in rs):
        notes.append("not decoded back")
    if any(r.contended for r in rs if r.has_bits):
        notes.append("contended speeds")
    seeds = sorted(r.seed for r in rs if r.seed is not None)
    if len(seeds) > 1:
        notes.append(f"mean of seeds {', '.join(map(str, seeds))}")
    return "; ".join(notes)


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
            "excess": r.excess_bits,
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
