"""The metrics table (results.metrics): one entry makes a figure a choice of compare and plot, a
column of the HTML report, a field of every record; and no other module computes or spells
one. The committed records of results/readme are the input where no run is needed."""

from __future__ import annotations

import ast
import csv
import re
import statistics
from pathlib import Path

import pytest

import mdlbench
from mdlbench.errors import UsageError
from mdlbench.results import leaderboard as lb
from mdlbench.results import metrics
from mdlbench.results.record import Record
from mdlbench.results.store import load_records

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "results" / "readme"


@pytest.fixture
def nibbles() -> metrics.Metric:
    """A metric added by this test alone: the stream's length in 4-bit nibbles."""
    m = metrics.Metric("nibbles", "nibbles", metrics.LOWER,
                       lambda r: None if r.bits is None else r.bits / 4,
                       "the stream in {unit} (4 bits each)", metrics.fixed(1),
                       header="stream {unit}", detail=True)
    metrics.add(m)
    yield m
    metrics.remove("nibbles")


def test_one_entry_makes_a_metric_everywhere(nibbles, mdl, tmp_path):
    runs = tmp_path / "runs"
    recs = mdlbench.run(["iid:n=3000"], ["zlib", "bz2"], results_dir=runs)
    bits = {r.compressor.spec: r.bits for r in recs}
    p = mdl("compare", str(runs), "--metric", "nibbles", "--format", "csv")
    assert p.code == 0, p.err
    rows = {row[0]: row[1] for row in csv.reader(p.out.splitlines()[1:]) if row[0][0] != "("}
    assert {k: float(v) for k, v in rows.items()} == {k: b / 4 for k, b in bits.items()}
    md = mdl("compare", str(runs), "--metric", "nibbles", "--format", "md").out
    assert md.startswith("nibbles: the stream in nibbles (4 bits each). Rows in parentheses "
                         "are formulas, not streams")  # iid states NML: the board says so
    assert f"| {bits['zlib'] / 4:.1f} |" in md  # the metric's own format
    page = mdlbench.html_report([runs])
    assert ">stream nibbles</button>" in page and f">{bits['bz2'] / 4:.1f}</td>" in page
    assert "nibbles" in mdlbench.html_report([runs], "nibbles", mean_rank=True)
    p = mdl("plot", str(runs), "--kind", "pareto", "--metric", "nibbles", "--out", str(tmp_path))
    assert p.code == 0, p.err
    fig = mdlbench.plot([runs], "pareto", metric="nibbles")
    assert fig.axes[0].get_ylabel() == "nibbles (nibbles)"
    assert recs[0].to_dict()["nibbles"] == recs[0].bits / 4
    assert "nibbles" in mdlbench.results_frame([runs]).columns
    metrics.remove("nibbles")
    one = mdl("compare", str(runs), "--metric", "nibbles")
    assert one.code == 2 and "unknown metric 'nibbles'" in one.err
    assert "nibbles" not in recs[0].to_dict()


def test_a_taken_name_is_refused_and_the_same_entry_is_no_change(nibbles):
    metrics.add(nibbles)
    with pytest.raises(UsageError, match="already defined"):
        metrics.add(metrics.Metric("bits", "bits", metrics.LOWER, lambda r: 0, "", str))


@pytest.mark.parametrize("name", list(metrics.TABLE))
def test_the_board_shows_each_records_own_figure(name):
    """Whatever table shows a metric computes it by the one function: the board's figure is the
    mean of the records' figures, the record's JSON holds the same."""
    recs = [r for r in load_records([README]) if r.has_bits]
    board = lb.leaderboard(recs, name)
    for r in lb.latest(recs):
        want = metrics.value(name, r)
        got = board.loc[r.row, r.dataset.label]
        if r.seed is None and want is not None:
            assert got == pytest.approx(want, rel=1e-12)
        assert r.to_dict()[metrics.get(name).field] == want
    assert board.attrs["caption"].startswith(f"{name}: ")


def test_a_dataset_table_row_is_the_mean_of_its_seeds():
    recs = [r for r in load_records([README]) if r.dataset.label == "bible"]
    one = next(r for r in recs if r.verified and r.seed is None)
    twin = Record.from_dict({**one.to_dict(), "seed": 1, "bits": one.bits + 800, "key": "s1"})
    first = Record.from_dict({**one.to_dict(), "seed": 0, "key": "s0"})
    table = lb.dataset_table([r for r in recs if r is not one] + [first, twin], "bible")
    row = table.loc[one.row]
    assert row["bits"] == statistics.fmean([one.bits, one.bits + 800])
    assert row["ratio"] == pytest.approx(statistics.fmean([first.ratio, twin.ratio]))
    assert row["bits per byte ±std"] == pytest.approx(statistics.stdev([first.bpb, twin.bpb]))


def _strings(path: Path) -> str:
    """The string literals of a module's code (f-strings' text too), without its docstrings."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return "\n".join(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                     and isinstance(n.value, str) and id(n) not in docs)


def test_no_other_module_computes_or_spells_a_unit():
    """Units of metrics are spelled in results/metrics.py alone (the closing figure of #23): no
    other module's code holds one, nor a figure per input size."""
    unit = re.compile(r"bits per (byte|label|symbol)|bits/(byte|label|symbol)|MB/s")
    formula = re.compile(r"/ max\(|\.size /|/ \S*size\b")
    results = sorted((ROOT / "mdlbench" / "results").glob("*.py"))
    spelled = [f.name for f in [ROOT / "mdlbench" / "cli.py", ROOT / "mdlbench" / "api.py",
                                *results] if unit.search(_strings(f))]
    assert spelled == ["metrics.py"]
    assert [f.name for f in results if formula.search(f.read_text())] == ["metrics.py"]
