"""Long coders report progress, and neural coders the running bits/byte while they encode."""

from __future__ import annotations

import sys

import mdlbench
from mdlbench.compressors import create
from mdlbench.datasets import load
from mdlbench.harness.progress import Reporter
from mdlbench.harness.runner import Layout, run_cell


class Recorder(Reporter):
    def __init__(self) -> None:
        self.calls: list[tuple[int, int, float | None]] = []

    def bytes(self, done: int, total: int, bpb: float | None = None) -> None:
        self.calls.append((done, total, bpb))


def test_running_bits_per_byte_reach_the_progress_bar():
    rep = Recorder()
    ds = load("iid:n=3000")
    rec = run_cell(ds, create("lstm:hidden=8,streams=4"), Layout(), reporter=rep)
    assert rec.verified
    bpbs = [b for _, _, b in rep.calls if b is not None]
    assert bpbs and all(0 < b < 16 for b in bpbs)
    done = [d for d, _, _ in rep.calls]
    assert done == sorted(done) and done[-1] == rep.calls[-1][1] == 2 * ds.size
    assert abs(bpbs[-1] - rec.bits_ideal / ds.size) < 0.05


def test_cells_in_worker_processes_report_bytes_and_bits_per_byte():
    """-j 2: both cells run at once, and each shows its own bytes and running bits per byte
    (mix reports its real bits every 256 KB block)."""
    from mdlbench.harness import executors, measure
    from mdlbench.harness.progress import label_of

    class Labelled(Reporter):
        def __init__(self) -> None:
            self.calls: list[tuple[str, str, int, float | None]] = []

        def cell(self, label: str, total_bytes: int) -> None:
            self.calls.append(("cell", label, total_bytes, None))

        def bytes(self, done, total, bpb=None, label=None) -> None:
            self.calls.append(("bytes", label, done, bpb))

    rep = Labelled()
    jobs = [executors.Job(d, None, "mix", None, False, None, True, measure.TimingPolicy(1, 0))
            for d in ("canterbury:head=270000", "bible:head=270000")]
    recs = [rec for _, rec in executors.run_processes(jobs, 2, rep)]
    labels = {label_of(r) for r in recs}
    assert {c[1] for c in rep.calls} == labels and len(labels) == 2
    starts = [i for i, c in enumerate(rep.calls) if c[0] == "cell"]
    firsts_end = max(i for i, c in enumerate(rep.calls) if c[1] == rep.calls[starts[0]][1])
    assert starts[1] < firsts_end  # the second cell started before the first one finished
    for r in recs:
        mine = [c for c in rep.calls if c[1] == label_of(r) and c[0] == "bytes"]
        assert mine[-1][2] == 2 * r.dataset.size  # encode and decode, all of it
        bpbs = [b for *_, b in mine if b is not None]
        assert bpbs and abs(bpbs[-1] - r.bpb) < 0.01  # the running figure ends at the record's


def test_the_terminal_display_shows_each_running_cell():
    import io

    from rich.console import Console

    from mdlbench.harness.progress import RichReporter, label_of

    (rec,) = mdlbench.run(["iid:n=1000"], ["zlib"], results_dir=None, progress=False)
    rep = RichReporter(Console(file=io.StringIO(), width=150))
    rep.start(2)
    rep.cell(label_of(rec), 2000)
    rep.cell("bz2 on iid:n=1000", 2000)
    rep.bytes(500, 2000, 1.5, label=label_of(rec))
    rep.bytes(800, 2000, 2.25, label="bz2 on iid:n=1000")
    rep.bytes(1600, 2000, None, label="bz2 on iid:n=1000")  # decoding: the figure stays

    def shown() -> str:
        screen = Console(file=io.StringIO(), width=150, record=True)
        screen.print(rep.bytes_progress)
        return screen.export_text()

    text = shown()
    assert "zlib on iid:n=1000  bpb 1.5000 so far" in text
    assert "bz2 on iid:n=1000  bpb 2.2500 so far" in text
    rep.cell_done(rec)
    assert "zlib on" not in shown() and "bz2 on" in shown()


def test_progress_is_shown_where_a_person_watches(monkeypatch, capsys):
    import types

    from mdlbench.harness import progress

    assert type(progress.reporter_for(False)) is Reporter
    assert type(progress.reporter_for(None)) is Reporter  # pytest's stderr is no terminal
    assert type(progress.reporter_for(True)) is progress.RichReporter
    assert not progress.in_notebook()

    class ZMQInteractiveShell:  # what a Jupyter kernel's get_ipython() returns
        pass

    monkeypatch.setitem(sys.modules, "IPython",
                        types.SimpleNamespace(get_ipython=ZMQInteractiveShell))
    assert progress.in_notebook()
    assert type(progress.reporter_for(None)) is progress.TqdmReporter
    assert type(progress.reporter_for(False)) is Reporter
    capsys.readouterr()
    mdlbench.run(["iid:n=1000"], ["zlib", "bz2"], results_dir=None)  # tqdm writes to stderr
    err = capsys.readouterr().err
    assert "ok zlib on iid:n=1000" in err and "ok bz2 on iid:n=1000" in err and "cells" in err
