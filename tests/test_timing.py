"""The timing method (warm-up, repetitions, fastest run, contention) and the statuses a cell can
end in: what a figure in a table can be trusted for."""

from __future__ import annotations

import pytest

import mdlbench
from mdlbench.compressors import NOTHING_GIVEN, REGISTRY, Compressor, Given, create
from mdlbench.datasets import load
from mdlbench.errors import UsageError
from mdlbench.harness.measure import TimingPolicy
from mdlbench.harness.runner import Layout, run_cell
from mdlbench.params import Param
from mdlbench.results import store
from mdlbench.results.leaderboard import leaderboard, render


class _Counting(Compressor):
    """Stores the data as is and logs every call, so the order of the harness's calls shows."""

    name = "test-counting"
    params = (Param("level", int, 1, "unused"),)
    calls: list[tuple[str, int]] = []

    def compress(self, data: bytes) -> bytes:
        self.calls.append(("encode", len(data)))
        return data

    def decompress(self, blob: bytes) -> bytes:
        self.calls.append(("decode", len(blob)))
        return blob

    def warm_up(self, sample: bytes, given: Given = NOTHING_GIVEN) -> None:
        self.calls.append(("warm_up", len(sample)))


class _Drifting(_Counting):
    """An encoder whose output changes from call to call: not a coder one can measure."""

    name = "test-drifting"

    def compress(self, data: bytes) -> bytes:
        self.calls.append(("encode", len(data)))
        return data + bytes([len(self.calls) % 256])

    def decompress(self, blob: bytes) -> bytes:
        return blob[:-1]


class _NoDevice(_Counting):
    """A coder that cannot run on this machine (like --device cuda without a GPU)."""

    name = "test-nodevice"

    def warm_up(self, sample: bytes, given: Given = NOTHING_GIVEN) -> None:
        raise UsageError("CUDA is not available on this machine")


@pytest.fixture
def registered():
    for cls in (_Counting, _Drifting, _NoDevice):
        REGISTRY[cls.name] = cls
    _Counting.calls.clear()
    yield _Counting.calls
    for cls in (_Counting, _Drifting, _NoDevice):
        del REGISTRY[cls.name]


def test_warm_up_then_repetitions_until_the_count(registered):
    ds = load("iid:n=5000")
    rec = run_cell(ds, REGISTRY["test-counting"](), timing=TimingPolicy(repeat=3, min_time=60))
    assert registered[0] == ("warm_up", 1024)  # a prefix, before anything is timed
    assert registered[1:] == [("encode", 5000)] * 3 + [("decode", 5000)] * 3
    enc, dec = rec.timing.encode, rec.timing.decode
    assert enc.repeats == dec.repeats == 3 and rec.timing.cells_at_once == 1
    assert 0 < enc.min_s <= enc.median_s and enc.cpu_s is not None
    assert rec.encode_MBps == pytest.approx(5000 / enc.min_s / 1e6)  # the fastest repetition
    assert rec.status == "verified" and not rec.contended


def test_a_slow_cell_runs_once(registered):
    rec = run_cell(load("iid:n=2000"), REGISTRY["test-counting"](),
                   timing=TimingPolicy(repeat=5, min_time=0))
    assert rec.timing.encode.repeats == rec.timing.decode.repeats == 1
    per_file = run_cell(load("canterbury:head=20000"), REGISTRY["test-counting"](),
                        Layout(per_file=True), timing=TimingPolicy(repeat=2, min_time=60))
    assert per_file.timing.encode.repeats == 2  # a repetition is a pass over every file
    assert [p.bits for p in per_file.parts] == [8 * 20000]


def test_a_repetition_with_other_bits_fails_the_cell(registered):
    rec = run_cell(load("iid:n=1000"), REGISTRY["test-drifting"](),
                   timing=TimingPolicy(repeat=3, min_time=60))
    assert rec.status == "failed" and "non-deterministic" in rec.error
    assert rec.timing.decode is None


def test_a_cell_that_cannot_run_is_an_error_without_bits(registered, tmp_path, mdl):
    (rec,) = mdlbench.run(["iid:n=1000"], ["test-nodevice"], results_dir=tmp_path)
    assert rec.status == "error" and rec.bits is None and "CUDA" in rec.error
    assert rec.timing.encode is None
    table = leaderboard([rec])
    assert "error: iid:n=1000" in table.loc["test-nodevice", "notes"]
    assert "| test-nodevice | error |" in render(table, "md")
    p = mdl("run", "iid:n=1000", "-c", "test-nodevice", "--results", str(tmp_path))
    assert p.code == 1 and "ERROR" in p.err and "could not run" in p.err
    assert "Traceback" not in p.err


def test_contended_speeds_are_marked(tmp_path):
    """Cells that shared the machine (-j 2 here; test_grid shows the executors say so)."""
    ds = load("iid:n=3000")
    for spec in ("zlib", "bz2"):
        store.save(tmp_path, run_cell(ds, create(spec), cells_at_once=2))
    table = mdlbench.compare([tmp_path])
    md = render(table, "md")
    assert "contended speeds" in table.loc["zlib", "notes"]
    assert table.attrs["marks"][("zlib", "encode_MBps")] == "contended"
    zlib = next(ln for ln in md.splitlines() if ln.startswith("| zlib |"))
    assert zlib.count("*") == 2 and "speed measured while other cells ran" in md
    page = mdlbench.html_report([tmp_path])
    assert 'class="num contended"' in page and "not the coder&#x27;s own speed" in page
    assert "Every figure is the length of a stream that decoded back" in page


def test_timing_options_are_checked():
    with pytest.raises(UsageError, match="--repeat"):
        mdlbench.run(["iid:n=100"], ["zlib"], results_dir=None, repeat=0)
    with pytest.raises(UsageError, match="--min-time"):
        mdlbench.run(["iid:n=100"], ["zlib"], results_dir=None, min_time=-1)
