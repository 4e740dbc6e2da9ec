"""Grids: parallel cells, Ray, resume after kill -9, plots and the HTML report."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import mdlbench
from mdlbench.results.plots import KINDS

ROOT = Path(__file__).resolve().parents[1]
GRID = ["zlib:level=1..3", "bz2:level=1..2"]


def _bits(recs):
    return {r.name: r.bits for r in recs}


def test_parallel_jobs_give_the_same_bits(tmp_path):
    one = mdlbench.run(["iid:n=20000", "markov:n=20000"], GRID, results_dir=tmp_path / "a")
    two = mdlbench.run(["iid:n=20000", "markov:n=20000"], GRID, results_dir=tmp_path / "b", jobs=2)
    assert _bits(one) == _bits(two) and len(two) == 10
    assert len(list((tmp_path / "b").rglob("*.json"))) == 10
    assert not any(r.contended for r in one)  # one cell at a time: clean speeds
    assert all(r.contended and r.timing.cells_at_once == 2 for r in two)


def test_ray_executor_local_cluster(tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        recs = mdlbench.run(["iid:n=5000"], GRID, results_dir=tmp_path, executor="ray")
    finally:
        ray.shutdown()
    local = mdlbench.run(["iid:n=5000"], GRID, results_dir=None)
    assert _bits(recs) == _bits(local) and all(r.contended for r in recs)
    assert len(list(tmp_path.rglob("*.json"))) == 5


def test_kill_minus_nine_loses_at_most_the_cell_in_flight(tmp_path, mdl):
    runs = tmp_path / "runs"
    args = ["run", "canterbury:head=500000", "-c", "zstd:level=12..19", "--results", str(runs)]
    proc = subprocess.Popen([sys.executable, "-m", "mdlbench.cli", *args, "--repeat", "1", "-q"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(runs.rglob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(runs.rglob("*.json"))
    assert 2 <= len(done) < 8, "the run should have been killed mid-grid"
    for f in done:  # every record on disk is whole
        assert json.loads(f.read_text())["status"] == "verified"
    p = mdl(*args)  # the resumed run: here, in process
    assert p.code == 0, p.err
    assert p.err.count("skip") == len(done)
    assert len(list(runs.rglob("*.json"))) == 8


def test_plots_and_html(tmp_path):
    runs = tmp_path / "runs"
    mdlbench.run(["iid:n=5000", "canterbury:head=100000"], GRID, results_dir=runs)
    paths = mdlbench.write_plots([runs], "pareto", "canterbury:head=100000", tmp_path / "p", "png")
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = mdlbench.write_plots([runs], "pareto", "iid:n=5000", tmp_path / "p", "svg")[0]
    assert "<svg" in svg.read_text()
    assert len(mdlbench.write_plots([runs], "all", None, tmp_path / "all")) == 2
    page = mdlbench.html_report([runs])
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2
    assert "zlib:level=3" in page
    assert "<link" not in page and "src=" not in page  # self-contained: no external assets
    with pytest.raises(mdlbench.errors.UsageError, match="no results with per-segment"):
        mdlbench.plot([runs], "learning")
    assert set(KINDS) == {"pareto", "learning", "blocks", "sweep"}


def test_seeds_give_mean_and_std_for_stochastic_coders(tmp_path):
    recs = mdlbench.run(["iid:n=1500"], ["lstm:hidden=8,streams=4", "zlib"], seeds=3,
                        results_dir=tmp_path)
    lstm = [r for r in recs if r.compressor.name == "lstm"]
    assert sorted(r.seed for r in lstm) == [0, 1, 2]
    assert len([r for r in recs if r.compressor.name == "zlib"]) == 1  # not stochastic
    assert len({r.bits for r in lstm}) > 1  # the seed matters
    table = mdlbench.compare([tmp_path], "bits")
    rows = [i for i in table.index if i.startswith("lstm")]
    assert rows == ["lstm:hidden=8,streams=4"]  # one row for the three seeds
    bits = [r.bits for r in lstm]
    assert table.loc[rows[0], "iid:n=1500"] == pytest.approx(statistics.mean(bits))
    assert table.loc[rows[0], "iid:n=1500 ±std"] == pytest.approx(statistics.stdev(bits))
    assert np.isnan(table.loc["zlib", "iid:n=1500 ±std"])


def test_a_grid_is_counted_before_any_work(tmp_path):
    """Cells = datasets × specs (ranges multiplied out) × seeds for seeded coders; counted
    from the numbers alone, then refused above limits.MAX_CELLS unless max_cells lifts it."""
    from mdlbench import limits
    from mdlbench.errors import LimitError
    from mdlbench.harness import grid
    from mdlbench.harness.suite import Group

    big = Group(["iid:n=100", "markov:n=100"],
                ["zstd:level=1..22", "lstm:hidden=1..1000,streams=1..1000", "lstm:seed=3",
                 "zlib"], seeds=7)
    assert grid.size([big]) == 2 * (22 + 1000 * 1000 * 7 + 1 + 1)
    huge = Group(["iid:n=100"], ["lstm:hidden=1..1000,streams=1..1000,layers=1..1000"],
                 seeds=10**18)
    assert grid.size([huge]) == 10**9 * 10**18
    for kwargs in ({"seeds": 10**18}, {"compressors": ["lstm:hidden=1..1000,streams=1..1000"]},
                   {"compressors": ["zlib:level=1..9"], "max_cells": 8}):
        args = {"compressors": ["zlib"], **kwargs}
        with pytest.raises(LimitError, match="refused before any work"):
            mdlbench.run(["iid:n=100"], results_dir=tmp_path / "runs", **args)
        assert not (tmp_path / "runs").exists()
    recs = mdlbench.run(["iid:n=100"], ["zlib:level=1..9"], results_dir=tmp_path / "runs",
                        max_cells=9)
    assert len(recs) == 9 and limits.MAX_CELLS >= 1000


def test_a_cell_asked_for_twice_runs_once(tmp_path):
    """Defaults spelled out (`zstd:level=3` is `zstd`, `iid:n=1000,k=4` is `iid:n=1000`) and
    ranges that repeat a spec name one cell: each runs once and gives one record."""
    recs = mdlbench.run(["iid:n=1000", "iid:n=1000,k=4"],
                        ["zstd", "zstd:level=3", "zstd:level=2..4"],
                        results_dir=tmp_path, progress=False, repeat=1)
    cells = sorted((r.dataset.label, r.compressor.spec) for r in recs)
    assert cells == [("iid:n=1000", "zstd"), ("iid:n=1000", "zstd:level=2"),
                     ("iid:n=1000", "zstd:level=4")]
