"""Cells that fail are records and the grid goes on; workers die with their driver; Ctrl-C is
quiet; and, whatever fails while a grid writes, no record on disk is ever partial."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import faulty_worker
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from special_files import hostile

import mdlbench
from mdlbench import fileio, interrupt
from mdlbench.compressors import REGISTRY, classical
from mdlbench.errors import OutputError
from mdlbench.harness import executors, grid
from mdlbench.results.record import ERROR, VERIFIED

ROOT = Path(__file__).resolve().parents[1]


def by_spec(recs):
    return {r.compressor.spec: r for r in recs}


def test_a_cell_that_raises_or_kills_its_worker_is_an_error_cell_and_the_grid_goes_on(
        tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "execute", faulty_worker.execute)  # workers import it by name
    specs = ["zlib:level=1", "zlib:level=2", "zlib:level=3", "bz2", "lz4", "zstd"]
    recs = mdlbench.run(["iid:n=2000"], specs, results_dir=tmp_path, jobs=2)
    got = by_spec(recs)
    assert got["zlib:level=1"].status == ERROR and got["zlib:level=1"].bits is None
    assert "RuntimeError" in got["zlib:level=1"].error and "a coder's bug" in got["zlib:level=1"].error
    assert got["zlib:level=2"].status == ERROR and "worker process" in got["zlib:level=2"].error
    assert all(got[s].status == VERIFIED for s in ("zlib:level=3", "bz2", "lz4", "zstd"))
    assert len(list(tmp_path.rglob("*.json"))) == 6  # every cell has its record


def test_a_dataset_gone_before_the_workers_load_it(tmp_path, monkeypatch):
    """Workers code the copy the driver loaded and checked; one too large to send them
    (executors.SHIP_BYTES) they load themselves, and a file gone by then is an error cell."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"some data\n" * 300)
    cells = grid.plan([mdlbench.harness.suite.Group([str(data)], ["zlib", "bz2"])])
    data.unlink()
    recs = grid.run_grid(cells, root=None, jobs=2)
    assert [r.status for r in recs] == [VERIFIED, VERIFIED]
    assert {r.dataset.sha256 for r in recs} == {cells[0].dataset.sha256}
    monkeypatch.setattr(executors, "SHIP_BYTES", 2999)  # the driver's side: one byte short
    recs = grid.run_grid(cells, root=tmp_path / "runs", jobs=2)
    assert [r.status for r in recs] == [ERROR, ERROR]
    assert all("missing path" in r.error and r.bits is None for r in recs)


def test_workers_load_a_labelled_table_as_the_cells_say(tmp_path, monkeypatch):
    """A cell carries the label column its dataset was loaded with: workers that load the table
    themselves (nothing shipped) code the labels the driver planned, with nothing passed to
    run_grid beside the cells."""
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(200)))
    cells = grid.plan([mdlbench.harness.suite.Group([str(table)], ["zlib", "uniform"])], "y")
    assert {c.labels for c in cells} == {"y"}
    monkeypatch.setattr(executors, "SHIP_BYTES", 0)  # every worker loads the table itself
    recs = grid.run_grid(cells, root=None, jobs=2)
    assert [r.status for r in recs] == [VERIFIED, VERIFIED], [r.error for r in recs]
    assert {r.dataset.sha256 for r in recs} == {cells[0].dataset.sha256}
    assert all(r.dataset.label.endswith(":labels=y") for r in recs)


class Crashing(classical.Zlib):
    def compress(self, data: bytes) -> bytes:
        if len(data) > 1024:  # past the warm-up
            raise ZeroDivisionError("a coder's bug")
        return super().compress(data)


def test_an_inline_cell_that_raises_is_an_error_cell(tmp_path, monkeypatch, mdl):
    monkeypatch.setitem(REGISTRY, "zlib", Crashing)
    p = mdl("run", "iid:n=3000", "-c", "zlib", "-c", "bz2", "--results", str(tmp_path), "-q")
    assert p.code == 1 and "Traceback" not in p.err
    assert p.err.strip().splitlines() == ["1 cell(s) failed their round trip or could not run"]
    recs = by_spec(mdlbench.records([tmp_path]))
    assert recs["zlib"].status == ERROR and recs["zlib"].bits is None
    assert "ZeroDivisionError" in recs["zlib"].error and recs["bz2"].status == VERIFIED


def test_cuda_without_a_gpu_is_an_error_cell_with_no_bits(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    (rec,) = mdlbench.run(["iid:n=300"], ["lstm:hidden=8"], results_dir=tmp_path,
                          overrides={"device": "cuda"})
    assert rec.status == ERROR and rec.bits is None and rec.bits_ideal is None
    doc = json.loads(next(tmp_path.rglob("*.json")).read_text())
    assert doc["status"] == "error" and doc["bits"] is None


# ------------------------------------------------------------------- real processes, real signals


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["sigint", "kill9"])
def test_parallel_runs_stop_cleanly(tmp_path, how):
    """Ctrl-C (SIGINT to the whole group, as a terminal sends it) of a `-j 2` run: one line,
    exit 130, no process left; kill -9 of the driver alone: its workers and the resource
    tracker follow within seconds (the hostile check's own procedure)."""
    problem = hostile.parallel_case(tmp_path, how)
    assert problem is None, problem


@pytest.mark.parametrize("how", ["sigterm", "sigint"])
def test_held_signals_wait_for_its_end_and_its_processes_start_with_them_blocked(how):
    """interrupt.held, around a worker's start: SIGTERM or Ctrl-C sent inside is raised on the
    way out (Terminated, KeyboardInterrupt), not in the middle; a process started inside
    begins with both blocked (it unblocks them once it ignores Ctrl-C); the mask comes back."""
    signum, stop = {"sigterm": (signal.SIGTERM, interrupt.Terminated),
                    "sigint": (signal.SIGINT, KeyboardInterrupt)}[how]
    reached = False
    with interrupt.watching(sigterm=True), pytest.raises(stop):
        with interrupt.held():
            os.kill(os.getpid(), signum)
            child = subprocess.run([sys.executable, "-c", "import signal; print(sorted(int(s) "
                                    "for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])))"],
                                   capture_output=True, text=True, check=True)
            reached = True
    assert reached
    assert {int(signal.SIGINT), int(signal.SIGTERM)} <= set(json.loads(child.stdout))
    assert not {signal.SIGINT, signal.SIGTERM} & signal.pthread_sigmask(signal.SIG_BLOCK, [])


# --------------------------------------------------------------------- no partial record, ever


@settings(max_examples=30, deadline=None)
@given(fail_at=st.integers(0, 12),
       where=st.sampled_from(["write", "fsync", "replace", "mkstemp", "fchmod"]),
       err=st.sampled_from([errno.ENOSPC, errno.EIO, errno.EROFS, errno.EDQUOT]))
def test_run_never_leaves_a_partial_record(tmp_path_factory, fail_at, where, err):
    """Whatever call of the atomic write fails (its n-th write, fsync, rename, chmod or temp
    file), the run stops with one OutputError and every file left in the results folder is a
    whole record; no temp file is left behind."""
    runs = tmp_path_factory.mktemp("runs")
    module = fileio.tempfile if where == "mkstemp" else fileio.os
    real, calls = getattr(module, where), []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == fail_at + 1:
            raise OSError(err, os.strerror(err))
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, where, flaky)
        try:
            mdlbench.run(["iid:n=300", "markov:n=300"], ["zlib", "bz2", "lz4"], results_dir=runs)
        except OutputError as e:
            assert os.strerror(err) in str(e)
    for f in runs.rglob("*"):
        assert not f.name.startswith(".mdlbench-"), f"temp file left: {f}"
        if f.is_file():
            assert json.loads(f.read_text())["status"] == VERIFIED
