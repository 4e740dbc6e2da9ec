"""Records: the typed form and its JSON (old and new schema), when a stored cell may be reused,
and how its status shows in every table, the gate, the HTML page and the plots."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
from special_files import one_error_line

import mdlbench
from mdlbench.compressors import REGISTRY
from mdlbench.harness import env
from mdlbench.results import plots
from mdlbench.results.record import Record, latest
from mdlbench.results.store import load_records

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_1 = ROOT / "tests" / "data" / "schema1"
"""Records as the first schema wrote them (copied from results/readme at commit 6cac84f, the
last run before schema 2): what users' old results folders hold."""


def test_record_json_round_trip(tmp_path):
    (rec,) = mdlbench.run(["markov:n=3000"], ["kt"], results_dir=tmp_path, repeat=2,
                          min_time=60)
    (f,) = tmp_path.rglob("*.json")
    doc = json.loads(f.read_text())
    again = Record.from_dict(doc, str(f))
    assert again == Record.from_dict(rec.to_dict(), str(f))
    assert again.bits == doc["bits"] and again.bpb == doc["bpb"]
    assert doc["encode_MBps"] == again.encode_MBps and doc["timing"]["encode"]["repeats"] == 2
    assert again.excess_bits == pytest.approx(again.bits - again.dataset.limit_bits)


def test_committed_schema_1_records_still_load():
    recs = load_records([SCHEMA_1])
    assert recs and all(r.path for r in recs)
    by = {(r.dataset.label, r.compressor.spec): r for r in recs}
    ppmd_i = by[("canterbury/per-file", "ppmd:mem=256")]  # pyppmd's variant I fails on ptt5
    assert ppmd_i.status == "failed" and ppmd_i.bits // 8 == 511_191
    zstd = by[("bible", "zstd:level=19")]
    assert zstd.status == "verified" and zstd.timing.warm_up is False
    assert zstd.encode_MBps == pytest.approx(zstd.dataset.size / zstd.timing.encode.min_s / 1e6)
    assert not zstd.contended  # unknown, not claimed either way
    table = mdlbench.compare([SCHEMA_1 / "bible"])
    assert table.loc["mix", "bible"] == pytest.approx(1.3107, abs=1e-4)
    parts = mdlbench.table([SCHEMA_1 / "canterbury_per-file"], "parts")
    assert parts.loc["zpaq", "total"] == 352_487
    md = mdlbench.report([SCHEMA_1 / "canterbury_per-file"], "parts")
    row = next(ln for ln in md.splitlines() if ln.startswith("| ppmd:mem=256 |"))
    assert "| failed |" in row and "38,760" in row  # alice29 decoded; ptt5 and the total did not


def test_schema_1_record_without_bits_is_an_error():
    doc = json.loads(next(SCHEMA_1.rglob("*.json")).read_text())
    assert doc.get("schema", 1) == 1
    doc.update(verified=False, bits=0, error="x: UsageError: no GPU")
    rec = Record.from_dict(doc)
    assert rec.status == "error" and rec.bits is None and rec.bpb is None


def test_latest_record_per_cell_wins(tmp_path):
    (old,) = mdlbench.run(["iid:n=2000"], ["zlib"], results_dir=tmp_path)
    new = Record.from_dict({**old.to_dict(), "created": "9999", "bits": 8, "key": "other"})
    assert latest([new, old]) == [new]
    assert mdlbench.compare([tmp_path]).loc["zlib", "iid:n=2000"] == old.bpb


def test_a_verifying_run_does_not_reuse_unverified_records(tmp_path):
    args = (["iid:n=3000"], ["zlib"])
    (first,) = mdlbench.run(*args, results_dir=tmp_path, verify=False)
    (again,) = mdlbench.run(*args, results_dir=tmp_path, verify=False)
    assert first.status == again.status == "unverified" and again.created == first.created
    (checked,) = mdlbench.run(*args, results_dir=tmp_path)
    assert checked.status == "verified" and checked.created != first.created
    (reused,) = mdlbench.run(*args, results_dir=tmp_path, verify=False)
    assert reused.created == checked.created  # a verified record serves an unverified run


def test_edited_code_is_not_reused(tmp_path, monkeypatch):
    (first,) = mdlbench.run(["iid:n=2000"], ["zlib"], results_dir=tmp_path)
    (same,) = mdlbench.run(["iid:n=2000"], ["zlib"], results_dir=tmp_path)
    assert same.created == first.created and same.code == first.code
    monkeypatch.setattr(env, "source_hash", lambda: "edited")
    (rerun,) = mdlbench.run(["iid:n=2000"], ["zlib"], results_dir=tmp_path)
    assert rerun.created != first.created and rerun.key != first.key
    assert "edited" in rerun.code


def test_source_hash_follows_the_code_not_the_presentation(tmp_path):
    pkg = tmp_path / "mdlbench"
    for rel in ("compressors/x.py", "cli.py", "results/plots.py"):
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text("a = 1\n")
    h = env.source_hash(pkg)
    (pkg / "cli.py").write_text("a = 2\n")
    (pkg / "results" / "plots.py").write_text("a = 2\n")
    assert env.source_hash.__wrapped__(pkg) == h
    (pkg / "compressors" / "x.py").write_text("a = 2\n")
    assert env.source_hash.__wrapped__(pkg) != h


PLUGIN = '''
from mdlbench.compressors.base import Compressor

class Plugin(Compressor):
    name = "test-plugin"

    def compress(self, data):
        return data{suffix}

    def decompress(self, blob):
        return blob
'''


def _plugin(path: Path, suffix: str) -> type:
    path.write_text(PLUGIN.format(suffix=suffix))
    spec = importlib.util.spec_from_file_location("mdlbench_test_plugin", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.Plugin


def test_a_plugins_file_joins_the_key(tmp_path):
    path = tmp_path / "plugin.py"
    try:
        REGISTRY["test-plugin"] = _plugin(path, "")
        (first,) = mdlbench.run(["iid:n=500"], ["test-plugin"], results_dir=tmp_path / "r")
        REGISTRY["test-plugin"] = _plugin(path, "  # edited")
        (second,) = mdlbench.run(["iid:n=500"], ["test-plugin"], results_dir=tmp_path / "r")
    finally:
        REGISTRY.pop("test-plugin", None)
        sys.modules.pop("mdlbench_test_plugin", None)
    assert "plugin.py:" in first.code and first.code != second.code
    assert second.created != first.created


def test_unverified_cells_are_marked_in_the_html_and_the_plots(tmp_path):
    mdlbench.run(["iid:n=3000"], ["zlib", "bz2"], results_dir=tmp_path, verify=False)
    page = mdlbench.html_report([tmp_path])
    assert "Every figure" not in page and "0 of 2 cells decoded back" in page
    assert 'class="num unverified"' in page and "not decoded back" in page
    fig = plots.make(load_records([tmp_path]), "pareto", "iid:n=3000")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("(unverified)" in t for t in texts)


def test_pareto_accepts_a_dataset_name_for_its_only_label(tmp_path):
    mdlbench.run(["canterbury:head=30000"], ["zlib", "lz4"], per_file=True, results_dir=tmp_path)
    (path,) = mdlbench.write_plots([tmp_path], "pareto", "canterbury:head=30000", tmp_path / "p")
    assert path.name == "pareto-canterbury_head_30000_per_file.png"
    with pytest.raises(mdlbench.errors.UsageError, match="labels in these results"):
        mdlbench.write_plots([tmp_path], "pareto", "bible", tmp_path / "p")


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> dict[str, dict]:
    """Two real records as stored: one cell on a whole input, one --per-file run of a folder."""
    root = tmp_path_factory.mktemp("stored")
    (root / "d").mkdir()
    (root / "d" / "a.txt").write_bytes(b"abc " * 300)
    (root / "d" / "b.txt").write_bytes(b"xyz" * 200)
    mdlbench.run(["iid:n=400"], ["zlib"], results_dir=root / "one")
    mdlbench.run([str(root / "d")], ["zlib"], per_file=True, results_dir=root / "parts")
    return {k: json.loads(next((root / k).rglob("*.json")).read_text()) for k in ("one", "parts")}


def _with(doc: dict, path: tuple, value) -> dict:
    doc = json.loads(json.dumps(doc))
    *head, last = path
    target = doc
    for k in head:
        target = target[k]
    target[last] = value
    return doc


UNTRUE = {  # (which record, the field, what a hand edit put there)
    "bits 1e30 of an empty input": ("one", ("bits",), 10**30, ("dataset", "size"), 0),
    "bits not whole bytes": ("one", ("bits",), "+1"),
    "bits not the sum of the parts": ("parts", ("bits",), "+8"),
    "part bits not whole bytes": ("parts", ("parts", 0, "bits"), "+4"),
    "negative input size": ("one", ("dataset", "size"), -400),
    "negative size of a file": ("parts", ("parts", 0, "size"), -1200),
    "negative number of files": ("parts", ("dataset", "files"), -2),
    "negative container bits": ("one", ("container_bits",), -8),
    "negative decoder size": ("one", ("decoder",), {"bits": -8, "xz_bytes": -1, "files": []}),
    "negative bits_ideal": ("one", ("bits_ideal",), -5.0),
    "negative source limit": ("one", ("dataset", "limit_bits"), -100.0),
    "negative encode time": ("one", ("timing", "encode", "min_s"), -0.5),
    "negative peak memory": ("one", ("peak_rss_mb",), -1.0),
    "NaN bits_ideal": ("one", ("bits_ideal",), math.nan),
    "infinite source limit": ("one", ("dataset", "limit_bits"), math.inf),
    "a formula of words": ("one", ("dataset", "formulas"), {"(NML)": "lots"}),
    "a model of no size": ("one", ("compressor", "model"), {"bits": "x"}),
    "ml bits not a number": ("one", ("dataset", "ml_bits"), "x"),
    "a model's parameters not a number": ("one", ("compressor", "model"),
                                          {"bits": 8, "parameters": "x"}),
    "segments not a list of rows": ("one", ("extras", "segments"), "junk"),
    "a block without its end": ("one", ("extras", "blocks"), [{"start": 0, "bits": 1.0}]),
    "a segment of words": ("one", ("extras", "segments"), [{"bytes": "x", "bits": None}]),
    "objective not a number": ("one", ("extras", "objective_bits"), "x"),
    "packages not a table": ("one", ("reproducibility", "packages"), "numpy"),
    "a cpu of a list": ("one", ("reproducibility", "cpu"), [1, 2]),
    "decoder bits past any stream": ("one", ("decoder",), {"bits": 10**400, "xz_bytes": 1,
                                                           "files": []}),
    "container bits past any stream": ("one", ("container_bits",), 10**400),
}


def _untrue(stored: dict, case: str) -> dict:
    which, *edits = UNTRUE[case]
    doc = stored[which]
    for path, value in zip(edits[::2], edits[1::2], strict=True):
        if isinstance(value, str) and value[0] == "+":
            old = doc
            for k in path:
                old = old[k]
            value = old + int(value[1:])
        doc = _with(doc, path, value)
    return doc


def _refused_everywhere(mdl, tmp_path, bad: Path, needle: str) -> None:
    """compare, plot and the gate (updating it, and checking against it) each refuse the file
    in one line that names it."""
    (tmp_path / "base.json").write_text(json.dumps({"schema": 1, "cells": {"a | b": 8}}))
    for args in (["compare", str(bad.parent)], ["compare", str(bad), "--format", "html"],
                 ["plot", str(bad.parent), "--out", str(tmp_path / "p")],
                 ["gate", "--baseline", str(tmp_path / "new.json"), "--results",
                  str(bad.parent), "--update"],
                 ["gate", "--baseline", str(tmp_path / "base.json"), "--results",
                  str(bad.parent)]):
        p = mdl(*args)
        one_error_line(p, needle=str(bad))
        assert needle in p.err, (args, p.err)
    assert not (tmp_path / "new.json").exists() and not (tmp_path / "p").exists()


@pytest.mark.parametrize("case", sorted(UNTRUE))
def test_a_record_whose_figures_cannot_be_true_is_refused(tmp_path, mdl, stored, case):
    bad = tmp_path / "runs" / "edited.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps(_untrue(stored, case)))  # NaN and Infinity as Python writes them
    _refused_everywhere(mdl, tmp_path, bad, "not an mdlbench record")


def test_a_lone_surrogate_is_refused_and_a_file_names_undecodable_bytes_kept(tmp_path, mdl,
                                                                           stored):
    """"\\ud800" in a hand-edited label or baseline is no character (printing it failed, exit
    70); a file name's undecodable byte, read by Python as \\udcff, is a name like any other."""
    bad = tmp_path / "runs" / "surrogate.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps(_with(stored["one"], ("dataset", "label"), "\ud800")))
    _refused_everywhere(mdl, tmp_path, bad, "a text holds a lone surrogate such as \\ud800")
    base = tmp_path / "sur.json"
    base.write_text('{"schema": 1, "cells": {"\\ud800 | zlib": 8}}')
    p = mdl("gate", "--baseline", str(base), "--results", str(bad.parent))
    one_error_line(p, needle=str(base))
    good = tmp_path / "good" / "r.json"
    good.parent.mkdir()
    good.write_text(json.dumps(_with(stored["parts"], ("parts", 0, "name"), "\udcffbad.txt")))
    p = mdl("compare", str(good.parent), "--view", "parts")
    assert p.code == 0 and "\\udcffbad.txt" in p.out, p.err
    for fmt in ("md", "csv", "html", "json"):  # each wrote the escape, none ended in exit 70
        out = tmp_path / f"parts.{fmt}"
        p = mdl("compare", str(good.parent), "--view", "parts", "--format", fmt, "-o", str(out))
        assert p.code == 0 and "udcffbad.txt" in out.read_text(), (fmt, p.err)


def test_a_record_with_a_key_twice_is_refused(tmp_path, mdl, stored):
    """`"bits": 8, ..., "bits": 999992`: json.loads keeps the last one; a person reading the
    file may see the first. Neither is taken."""
    bad = tmp_path / "runs" / "twice.json"
    bad.parent.mkdir()
    text = json.dumps(stored["one"], indent=1)
    bad.write_text(text.replace('"bits":', '"bits": 8,\n "bits":', 1))
    assert json.loads(bad.read_text())["bits"] == stored["one"]["bits"]
    _refused_everywhere(mdl, tmp_path, bad, "'bits' appears twice")


def test_a_record_of_a_newer_mdlbench_says_so(tmp_path, mdl, stored):
    bad = tmp_path / "runs" / "newer.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps({**stored["one"], "schema": 3, "bits": {"new": "layout"}}))
    _refused_everywhere(mdl, tmp_path, bad, "written by a newer mdlbench (schema 3 > 2); "
                                            "upgrade mdlbench")
    assert "corrupt" not in mdl("compare", str(bad)).err


@pytest.mark.parametrize("cells,needle", [
    ('{"x | zlib": 8, "x | zlib": 16}', "'x | zlib' appears twice"),
    ('{"x | zlib": 1000000000000000000000000000000}', "not a number of bits"),
    ('{"x | zlib": 12}', "not a number of bits"),
    ('{"x | zlib": NaN}', "not a number of bits"),
])
def test_a_hand_edited_baseline_is_refused(tmp_path, mdl, stored, cells, needle):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r.json").write_text(json.dumps(stored["one"]))
    base = tmp_path / "base.json"
    base.write_text('{"schema": 1, "cells": ' + cells + "}")
    p = mdl("gate", "--baseline", str(base), "--results", str(runs))
    one_error_line(p, needle=str(base))
    assert needle in p.err


def test_a_baseline_of_a_newer_mdlbench_says_so(tmp_path, mdl, stored):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r.json").write_text(json.dumps(stored["one"]))
    (tmp_path / "base.json").write_text('{"schema": 2, "cells": {"x | zlib": 8}}')
    p = mdl("gate", "--baseline", str(tmp_path / "base.json"), "--results", str(runs))
    one_error_line(p, needle="written by a newer mdlbench (schema 2 > 1); upgrade mdlbench")


def test_a_dataset_is_named_by_the_path_it_was_run_as(tmp_path, mdl, monkeypatch):
    """`run data/a.txt` stores the label `'/abs/data/a.txt'`; plot, compare and the HTML
    report take the path as typed (relative or absolute, a folder of a --per-file run, a glob),
    the label itself, and nothing that names another dataset."""
    data = tmp_path / "my data"
    (data / "d").mkdir(parents=True)
    (data / "a.txt").write_bytes(b"hello world " * 200)
    (data / "d" / "x.txt").write_bytes(b"xyz " * 300)
    runs = tmp_path / "runs"
    mdlbench.run([str(data / "a.txt")], ["zlib", "bz2"], results_dir=runs)
    mdlbench.run([str(data / "d")], ["zlib"], per_file=True, results_dir=runs)
    monkeypatch.chdir(data)
    labels = sorted({r.dataset.label for r in load_records([runs])})
    for typed, label in (("a.txt", labels[0]), (str(data / "a.txt"), labels[0]),
                         ("./a.txt", labels[0]), ("d", labels[1]), (labels[0], labels[0]),
                         (f"{data}/*.txt", labels[0])):
        p = mdl("plot", str(runs), "--kind", "pareto", "--dataset", typed, "--out",
                str(tmp_path / "p"))
        assert p.code == 0, (typed, p.err)
        p = mdl("compare", str(runs), "--dataset", typed, "--format", "csv")
        assert p.code == 0, (typed, p.err)
        assert [lbl for lbl in labels if lbl in p.out] == [label]
        p = mdl("compare", str(runs), "--dataset", typed, "--format", "html", "-o",
                str(tmp_path / "r.html"))
        assert p.code == 0 and (tmp_path / "r.html").read_text().count('<section id="ds-') == 1
    one_error_line(mdl("plot", str(runs), "--dataset", "b.txt"), needle="no results for dataset")
    one_error_line(mdl("compare", str(runs), "--dataset", "b.txt"), needle="no results match")
