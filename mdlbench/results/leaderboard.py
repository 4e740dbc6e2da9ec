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
- `dataset_table`: one dataset's results in full (sizes, ratio, bits, bpb, speeds,
  how they were timed, the coder's library), as the HTML page shows each dataset.

`select` filters records by dataset and compressor (glob patterns) before any table is built;
`sort_table` orders any table by one of its columns, best first.

Each table carries in `attrs` how to read it (results.tables), and every renderer goes through
that one formatter.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import shlex
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from . import metrics, tables
from .record import ERROR, FAILED, UNVERIFIED, VERIFIED, CompressorInfo, DatasetInfo, Record, latest

VIEWS = ("board", "dataset", "parts", "cells", "spread")
LIMIT_ROW = "(source limit)"
SHOWN = (VERIFIED, UNVERIFIED)


def frame(records: Sequence[Record]) -> pd.DataFrame:
    """One row per cell (the newest record of each), one column per variable, every metric of
    results.metrics among them (under its record field: `excess_bits`, `bpb`...): the tidy long
    form every table here pivots from, and what `mdlbench.results_frame` returns."""
    rows = []
    for r in latest(records):
        t, env = r.timing, r.reproducibility
        enc, dec = (t.encode, t.decode) if t else (None, None)
        rows.append({
            "dataset": r.dataset.label, "dataset_name": r.dataset.name, "kind": r.dataset.kind,
            "unit": metrics.symbol(r.dataset.kind), "size": r.dataset.size,
            "files": r.dataset.files, "compressor": r.row, "spec": r.compressor.spec,
            "name": r.compressor.name, "family": r.compressor.family,
            "library": r.compressor.library, "version": r.compressor.version, "seed": r.seed,
            "status": r.status, "bits_with_model": r.bits_with_model,
            **{m.field: m.value(r) for m in metrics.TABLE.values()},
            "limit_bits": r.dataset.limit_bits,
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


def formula_record(rec: Record, row: str, bits: float, ideal: bool = True) -> Record:
    """A code length a dataset states by formula (the source limit, NML...) as a record of
    `rec`'s dataset, so every metric reads it as it reads a stream of that many bits; `ideal`:
    it is an ideal code length too (the bits_ideal board). A formula has no container (0 bits
    of header) and no decoder (no whole description), whatever the stream record had."""
    return dataclasses.replace(rec, compressor=CompressorInfo(row, row), bits=bits,
                               bits_ideal=bits if ideal else None, timing=None, status=VERIFIED,
                               container_bits=0, decoder=None, parts=[])


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
    m = metrics.get(metric)
    df = frame(records)
    if df.empty:
        return pd.DataFrame()
    formulas = _formula_rows(records, metric)
    table = _means(df, m.field, formulas)
    ok = df[df["status"].isin(SHOWN)].assign(value=lambda d: d[m.field].astype(float))
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
    speeds = ok.groupby("compressor")[list(tables.SPEEDS)].mean()
    for comp in ok.loc[ok["contended"], "compressor"].unique():
        notes[comp].append("contended speeds")
        for c in tables.SPEEDS:
            marks[(comp, c)] = tables.CONTENDED
    cols = list(table.columns)
    multi = [c for c in cols if c in counts.columns and (counts[c] > 1).any()]
    for c in multi:  # stochastic coders over several seeds: mean ± std (sample std)
        table[f"{c} ±std"] = spread[c].reindex(table.index)
    for b in m.beside:
        beside = _means(df, metrics.get(b).field, _formula_rows(records, b))
        for c in cols:
            table[f"{c} {b}"] = beside[c].reindex(table.index)
    table = table[[x for c in cols for x in ([c, f"{c} ±std"] if c in multi else [c])
                   + [f"{c} {b}" for b in m.beside]]]
    table = table.join(speeds, how="left")
    table["notes"] = pd.Series({c: "; ".join(n) for c, n in notes.items()}).reindex(
        table.index).fillna("")
    coders = table.drop(index=_pinned(table))
    score = coders[cols].rank(ascending=not metrics.higher_is_better(metric)).mean(axis=1)
    table = table.reindex(_pinned(table) + list(score.sort_values(kind="stable").index))
    table.index.name = "compressor"
    for (comp, ds), mark in list(marks.items()):
        if ds in cols:
            marks.update({(comp, f"{ds} {b}"): mark for b in m.beside})
    shown = {r.dataset.label: r.dataset for r in latest(records)}.values()
    table.attrs = {"metric": metric, "marks": marks,
                   "formats": {"notes": "text", **{f"{c} {b}": b for c in cols for b in m.beside}},
                   "sort": "mean rank over the datasets of each row",
                   "caption": board_caption(metric, shown, bool(formulas))}
    return table


FORMULA_NOTE = ("Rows in parentheses are formulas, not streams: no container, no header, no "
                "decoder")
"""What a board with formula rows says of them: a stream's `bits` count its container, a
formula's code length has none (issue 26: NML's regret beside a stream's)."""


def board_caption(metric: str, datasets: Any, formulas: bool) -> str:
    """A board's caption: the metric's, the columns beside each dataset's (`Metric.beside`),
    and, where formula rows stand among the streams, that they have no container."""
    parts = [metrics.caption(metric, datasets)]
    beside = metrics.get(metric).beside
    if beside:
        parts.append("Beside each dataset: " + "; ".join(
            metrics.caption(b, about=False) for b in beside))
    if formulas:
        parts.append(FORMULA_NOTE)
    if len(list(datasets)) > 1:
        parts.append(SPEEDS_NOTE)
    return ". ".join(parts)


SPEEDS_NOTE = ("encode_MBps, decode_MBps: the mean over the row's datasets of each one's "
               "speed (fastest repetition), not total bytes over total time")
"""What a board's speed columns count where it spans several datasets."""


def _means(df: pd.DataFrame, field: str, formulas: list[tuple[str, str, float]]
           ) -> pd.DataFrame:
    """compressor × dataset of a metric's `field` in the frame, mean over the seeds shown
    (verified or unverified), every compressor and dataset kept, then the `formulas` rows."""
    shown = df[field].astype(float).where(df["status"].isin(SHOWN))
    table = df.assign(value=shown).pivot_table(index="compressor", columns="dataset",
                                               values="value", aggfunc="mean", dropna=False)
    for row, ds, v in formulas:
        table.loc[row, ds] = v
    return table


def _formula_rows(records: Sequence[Record], metric: str) -> list[tuple[str, str, float]]:
    """(row, dataset, value) of the rows a dataset states by formula, not by a stream: the
    source limit and its `formulas`, each read as a code length of that many (ideal) bits."""
    out = []
    for rec in {r.dataset.label: r for r in latest(records)}.values():
        rows = {LIMIT_ROW: rec.dataset.limit_bits, **rec.dataset.formulas}
        for row, bits in rows.items():
            v = None if bits is None else metrics.value(metric, formula_record(rec, row, bits))
            if bits is not None:
                out.append((row, rec.dataset.label, np.nan if v is None else float(v)))
    return out


SPEED_LIMIT_ROW = "copy"
"""The memcpy row (compressors/copy.py): the speed limit of the machine and the harness,
shown first as lzbench shows its memcpy line."""


def _pinned(table: pd.DataFrame) -> list[Any]:
    """The rows that stay on top however a table is sorted: the source limit, and the code
    lengths a dataset states by formula, are what every row is read against, not competitors;
    then the copy row, what every speed is read against."""
    rows = [r for r in table.index if str(r).startswith("(") or r == SPEED_LIMIT_ROW]
    return sorted(rows, key=lambda r: (r == SPEED_LIMIT_ROW, r != LIMIT_ROW))


def _compressor_matches(patterns: Sequence[str], r: Record) -> bool:
    names = (r.compressor.spec, r.row, r.compressor.name)
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)


def dataset_matches(pattern: str, info: DatasetInfo) -> bool:
    """Whether a dataset of a record is the one the user named: its label or name, or a glob
    pattern of either (`markov*`); or a path as it was typed when it was run (`data/a.txt`;
    with globs, `/tmp/*.txt`): a path's label is its quoted real path (datasets.files), the
    folder of a --per-file run's is followed by `/per-file`. The one rule every command that
    takes a dataset (compare, plot, html) applies."""
    from ..datasets.files import path_label

    names = [info.label, info.name]
    try:
        names += [" ".join(shlex.split(n)) for n in names if n.startswith("'")]  # unquoted
        typed = path_label(pattern) if pattern else "\0"
    except ValueError:  # a label that does not unquote, a pattern with a NUL: no path
        typed = "\0"
    return any(fnmatch.fnmatchcase(n, pattern) or n == typed
               or n.startswith((typed + "/", typed + ":")) for n in names)


def dataset_label(records: Sequence[Record], pattern: str) -> str:
    """The one dataset label of these records that `pattern` names (see `dataset_matches`):
    the label itself, else the only label it matches; a usage error naming the labels
    otherwise."""
    labels = sorted({r.dataset.label for r in records})
    if pattern in labels:
        return pattern
    hits = sorted({r.dataset.label for r in records if dataset_matches(pattern, r.dataset)})
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise UsageError(f"dataset {pattern!r} names several datasets in these results: "
                         f"{', '.join(hits)}")
    raise UsageError(f"no results for dataset {pattern!r} (labels in these results: "
                     f"{', '.join(labels)})")


def select(records: Sequence[Record], datasets: Sequence[str] = (),
           compressors: Sequence[str] = ()) -> list[Record]:
    """The records whose dataset matches one of `datasets` (`dataset_matches`) and whose
    compressor (spec, table row or name) matches one of `compressors` (glob patterns:
    `zstd:level=1?`); an empty list keeps all. Nothing left is a usage error that lists what
    there was."""
    out = [r for r in records
           if (not datasets or any(dataset_matches(p, r.dataset) for p in datasets))
           and (not compressors or _compressor_matches(compressors, r))]
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
    if column not in names and column in metrics.TABLE:  # a metric's name: its column here
        shown = {metrics.header(column, [kind]) for kind in (*metrics.SYMBOLS, "file")}
        column = next((n for n in names if n in shown), column)
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
        higher = tables.higher_is_better(kind)
        order = pd.to_numeric(key, errors="coerce").sort_values(
            ascending=not higher, na_position="last", kind="stable")
    out = table.reindex(_pinned(table) + list(order.index))
    out.attrs = {**table.attrs, "sort": str(col)}
    return out


SPREAD = "bpb"
"""The metric whose spread over seeds a dataset's table shows beside it (sample std)."""


def _from(m: metrics.Metric, r: Record, field: str) -> bool:
    """Whether `m` of `r` comes from this field of the record (`bits`: the stream, so an
    unverified stream's mark; `timing`: a speed, so a contended one's)."""
    return m.value(r) is not None and m.value(dataclasses.replace(r, **{field: None})) is None


def dataset_table(records: Sequence[Record], label: str) -> pd.DataFrame:
    """One dataset in full, one row per compressor (seeds averaged, their spread shown): the
    compressed bytes and every metric of results.metrics marked `detail` (ratio, bits, bits per
    byte or label, Σ -log2 p, speeds of the fastest repetition), how many repetitions were
    timed, and the coder's library. A row's figure is the mean over its seeds, shown only when
    every seed has one. The source limit, where the dataset has one, is the first row. Rows are
    ordered by bits; failed and error cells come last, with no figure."""
    recs = [r for r in latest(records) if r.dataset.label == label]
    if not recs:
        raise UsageError(f"no results for dataset {label!r}")
    info = recs[0].dataset
    shown = [m for m in metrics.TABLE.values() if m.detail]
    head = {m.name: metrics.header(m.name, [info.kind]) for m in shown}
    spread = f"{head.get(SPREAD, SPREAD)} ±std"
    by_row: dict[str, list[Record]] = {}
    for r in recs:
        by_row.setdefault(r.row, []).append(r)
    seeded = any(len(rs) > 1 for rs in by_row.values())
    rows: dict[str, dict[str, Any]] = {}
    marks: dict[tuple[str, Any], str] = {}
    if info.limit_bits is not None:
        lim = formula_record(recs[0], LIMIT_ROW, info.limit_bits, ideal=False)
        rows[LIMIT_ROW] = {"bytes": info.limit_bits / 8,
                           **{head[m.name]: m.value(lim) for m in shown},
                           "notes": "exact code length under the true source"}
    for name, rs in by_row.items():
        ok = [r for r in rs if r.has_bits]
        mark = _worst([r.status for r in rs])
        row: dict[str, Any] = {}
        for m in shown:
            vals = [m.value(r) for r in ok]
            full = bool(vals) and len(ok) == len(rs) and None not in vals
            row[head[m.name]] = statistics.fmean(vals) if full else None
            if m.name == SPREAD and seeded:
                row[spread] = statistics.stdev(vals) if full and len(vals) > 1 else None
        bits = row.get(head["bits"])
        first = rs[0]
        t = first.timing
        row.update({
            "bytes": None if bits is None else math.ceil(bits / 8),
            "runs": (f"{t.encode.repeats if t.encode else 0}/"
                     f"{t.decode.repeats if t.decode else 0}") if t else "",
            "library": f"{first.compressor.library} {first.compressor.version}".strip(),
            "notes": _row_notes(rs),
        })
        rows[name] = row
        if mark is not None:
            marks[(name, head["bits"])] = mark
        for m in shown if ok else ():
            if mark == UNVERIFIED and _from(m, ok[0], "bits"):
                marks[(name, head[m.name])] = mark
            if any(r.contended for r in ok) and _from(m, ok[0], "timing"):
                marks[(name, head[m.name])] = tables.CONTENDED
        if mark == UNVERIFIED:
            marks[(name, "bytes")] = mark
    formats = {"bytes": "bytes"}
    for m in shown:
        formats[head[m.name]] = m.name
        if m.name == SPREAD:
            formats[spread] = m.name
    formats.update({"runs": "text", "library": "text", "notes": "text"})
    table = _table(rows, "compressor", metric="bits", marks=marks, formats=formats)
    return sort_table(table[[c for c in formats if c in table.columns]], head["bits"])


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
    table = _table(rows, "compressor", metric="bytes", marks=marks)
    shared = [c for c in table.columns if str(c).startswith("(")]  # a dictionary, stored once
    table = table[shared + [c for c in table.columns if c not in shared and c != "total"]
                  + ["total"]]
    table = table.assign(_t=table["total"].where(
        [marks.get((n, "total")) not in (FAILED, ERROR) for n in table.index])).sort_values(
        "_t").drop(columns="_t")
    return table


def _extras_text(extras: dict[str, Any]) -> str:
    """A coder's scalar figures (regret bound, KL, uniform bits...), compactly."""
    out = []
    for k, v in extras.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        out.append(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(out)


CELLS = {"bits": "bits", "bpb": "bpb", "bits - ideal": "overhead", "excess": "excess",
         "encode_MBps": "encode_MBps", "decode_MBps": "decode_MBps",
         "decode/encode": "decode_per_encode", "encode_cpu_MBps": "encode_cpu_MBps"}
"""The figures of the cells view: its column -> the metric (results.metrics) shown in it."""


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
        rows[r.name] = {
            **{c: metrics.value(m, r) for c, m in CELLS.items()},
            "repeats": f"{enc.repeats if enc else 0}/{dec.repeats if dec else 0}",
            "peak_MB": r.peak_rss_mb, "status": "" if r.status == VERIFIED else r.status,
            "extras": _extras_text(r.extras),
        }
        if r.status != VERIFIED:
            for c in ("bits", "bpb"):
                marks[(r.name, c)] = r.status
        if r.contended:
            for c in tables.SPEEDS:
                marks[(r.name, c)] = tables.CONTENDED
    return _table(rows, "cell", metric="bits", marks=marks, formats={
        **CELLS, "repeats": "text", "peak_MB": "count", "status": "text", "extras": "text"})


def spread_table(runs: Sequence[Sequence[Record]]) -> pd.DataFrame:
    """Cells found in every one of several runs: each run's speeds and their spread (max/min - 1),
    to see how far the timing method moves between identical runs."""
    by_run = [{r.cell: r for r in latest(run) if r.has_bits} for run in runs]
    common = [c for c in by_run[0] if all(c in b for b in by_run[1:])]
    if not common:
        raise UsageError("these results folders share no finished cell")
    rows: dict[str, dict[str, Any]] = {}
    marks: dict[tuple[str, Any], str] = {}
    formats = {"encode_s": "s", "encode spread": "spread", "decode spread": "spread"}
    for cell in sorted(common, key=str):
        recs = [b[cell] for b in by_run]
        name = recs[0].name
        first = recs[0].timing.encode if recs[0].timing else None
        row: dict[str, Any] = {"encode_s": first.min_s if first else None}
        for d in ("encode", "decode"):
            speeds = [metrics.value(f"{d}_MBps", r) for r in recs]
            for i, (v, r) in enumerate(zip(speeds, recs, strict=True), 1):
                col = f"{metrics.header(f'{d}_MBps')}, run {i}"
                row[col], formats[col] = v, f"{d}_MBps"
                if r.contended:
                    marks[(name, col)] = tables.CONTENDED
            ok = [v for v in speeds if v]
            row[f"{d} spread"] = 100 * (max(ok) / min(ok) - 1) if len(ok) == len(speeds) else None
        rows[name] = row
    return _table(rows, "cell", metric="speed", marks=marks, formats=formats)


def _table(rows: dict[str, dict[str, Any]], index: str, **attrs: Any) -> pd.DataFrame:
    """The rows as a table, its index named, its `attrs` saying how to read it
    (results.tables: the metric, marks and formats)."""
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = index
    table.attrs = attrs
    return table


def render(table: pd.DataFrame, fmt: str) -> str:
    """Text forms of a table: md, html (a table element), csv, json."""
    if fmt == "csv":
        return table.to_csv(float_format="%.6g")
    if fmt == "json":  # pandas' encoder refuses a file name's undecodable byte: its escape
        text = (lambda v: v.encode("utf-8", "backslashreplace").decode()  # noqa: E731
                if isinstance(v, str) else v)
        flat = table.reset_index().rename(columns=text)
        return flat.map(text).to_json(orient="records", indent=2)
    if fmt == "md":
        return tables.markdown(table)
    if fmt == "html":
        return tables.html_table(table)
    raise UsageError(f"unknown format {fmt!r}")
