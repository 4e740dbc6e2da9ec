"""Long coders report progress, and neural coders the running bits/byte while they encode."""

from __future__ import annotations

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
