"""The Python API a notebook or script uses: what `import mdlbench` offers, records from `run`
accepted wherever results are read, the tidy frame, and the one-liner of issue #17."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mdlbench
from mdlbench.results.record import Record

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recs() -> list[Record]:
    return mdlbench.run(["iid:n=2000", "markov:n=2000"], ["zlib", "bz2"], results_dir=None,
                        progress=False)


def test_the_package_lists_and_documents_its_api():
    names = dir(mdlbench)
    assert set(mdlbench.__all__) <= set(names)
    for name in ("run", "compare", "results_frame", "plot", "html_report", "Record"):
        assert name in mdlbench.__all__
    for name in mdlbench.__all__:
        obj = getattr(mdlbench, name)
        assert name == "__version__" or (obj.__doc__ or "").strip(), name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mdlbench.nope  # noqa: B018


def test_compare_takes_what_run_returned(recs, tmp_path):
    table = mdlbench.compare(recs)
    assert {"iid:n=2000", "markov:n=2000"} <= set(table.columns)
    assert {"(source limit)", "zlib", "bz2"} <= set(table.index)
    assert all(str(r).startswith("(") for r in set(table.index) - {"zlib", "bz2"})  # formulas
    by = {(r.dataset.label, r.compressor.spec): r for r in recs}
    assert table.loc["zlib", "iid:n=2000"] == by[("iid:n=2000", "zlib")].bpb
    one = mdlbench.compare(recs[0])  # one record: its row, the limit and the formula rows
    assert [r for r in one.index if not str(r).startswith("(")] == [recs[0].row]
    saved = mdlbench.run(["iid:n=2000"], ["zlib"], results_dir=tmp_path, progress=False)
    assert mdlbench.compare(str(tmp_path)).loc["zlib", "iid:n=2000"] == saved[0].bpb
    assert len(mdlbench.table(recs, "cells")) == len(recs)
    with pytest.raises(mdlbench.errors.UsageError, match="no results found"):
        mdlbench.compare([])


def test_results_frame_is_one_tidy_row_per_cell(recs, tmp_path):
    df = mdlbench.results_frame(recs)
    assert len(df) == len(recs) == 4
    for col in ("dataset", "compressor", "seed", "status", "bits", "bits_ideal", "bpb", "unit",
                "ratio", "encode_MBps", "decode_MBps", "encode_repeats", "contended", "cpu"):
        assert col in df.columns
    assert sorted(df["bits"]) == sorted(r.bits for r in recs)
    assert set(df["unit"]) == {"symbol"} and set(df["status"]) == {"verified"}  # synthetic
    mdlbench.run(["iid:n=2000"], ["zlib"], results_dir=tmp_path, progress=False)
    folder = mdlbench.results_frame(tmp_path)
    assert list(folder["bits"]) == [next(r.bits for r in recs if r.compressor.spec == "zlib"
                                         and r.dataset.label == "iid:n=2000")]


def test_plot_and_html_from_records(recs):
    fig = mdlbench.plot(recs, "pareto", "markov:n=2000")
    assert type(fig).__name__ == "Figure" and fig.axes[0].get_title().startswith("markov")
    assert mdlbench.html_report(recs).count('<section id="ds-') == 2


def test_the_one_liner_of_the_issue(tmp_path):
    code = ("import mdlbench; r = mdlbench.run(['iid:n=2000'], ['zlib', 'bz2']); "
            "print(mdlbench.compare(r))")
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "zlib" in p.stdout and "bz2" in p.stdout and "(source limit)" in p.stdout
    assert p.stderr == ""  # no terminal here: no progress display
