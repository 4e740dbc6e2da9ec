"""Values checked when read: parameters (finite numbers), suites, records and baselines against
their schemas; and a gate that fails closed (no tolerance, empty or foreign baseline lets a
regression through) and says which cells were unchanged, better, or worse within tolerance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from special_files import one_error_line

from mdlbench.params import Param


@pytest.mark.parametrize("spec,needle", [
    ("kt:alpha=nan", "not a finite number"), ("kt:alpha=inf", "not a finite number"),
    ("kt:alpha=-inf", "not a finite number"), ("lstm:lr=nan", "not a finite number"),
    ("ensemble:switch=nan", "not a finite number"), ("zstd:level=1e999", "not a valid int"),
    ("zstd:level=nan", "not a valid int"), ("kt:alpha=1e-400", "below the minimum")])
def test_non_finite_and_overflowing_parameters_are_refused(mdl, tmp_path, spec, needle):
    one_error_line(mdl("run", "iid:n=200", "-c", spec, "--results", str(tmp_path)),
                   needle=needle)
    one_error_line(mdl("encode", "-c", spec, __file__, str(tmp_path / "o")), needle=needle)


def test_a_parameter_may_allow_non_finite_values():
    assert Param("x", float, 1.0, finite=False).convert("inf", "t") == float("inf")
    assert Param("n", int, 1).convert("1e3", "t") == 1000


def _suite(tmp_path: Path, text: str) -> str:
    (tmp_path / "s.toml").write_text(text)
    return str(tmp_path / "s.toml")


GOOD = 'datasets = ["iid:n=200"]\ncompressors = ["zlib"]\n'


@pytest.mark.parametrize("extra,needle", [
    ('per_file = "false"\n', "'per_file' must be true or false"),
    ('seeds = "abc"\n', "'seeds' must be a whole number"),
    ("seeds = 0\n", "'seeds' must be a whole number"),
    ("seeds = true\n", "'seeds' must be a whole number"),
    ("chunk_size = 1.5\n", "'chunk_size' must be a whole number"),
    ("chunk_size = 0\n", "'chunk_size' must be a whole number"),
    ('compressors2 = ["x"]\n', "unknown key 'compressors2'"),
])
def test_suite_values_are_checked(tmp_path, mdl, extra, needle):
    runs = tmp_path / "runs"
    one_error_line(mdl("run", "--suite", _suite(tmp_path, GOOD + extra), "--results", str(runs)),
                   needle=needle)
    assert not runs.exists()


@pytest.mark.parametrize("text,needle", [
    ("group = 3\n", "'group' must be [[group]] tables"),
    ('datasets = "iid"\ncompressors = ["zlib"]\n', "'datasets' must be a non-empty list"),
    ('datasets = [""]\ncompressors = ["zlib"]\n', "'datasets' must be a non-empty list"),
    ("", "declares no datasets"),
    ("[[group]]\n" + GOOD + "[[group]]\ndatasets = [\"no/such/file\"]\ncompressors = [\"zlib\"]\n",
     "unknown dataset or missing path"),
    ("[[group]]\n" + GOOD + "[[group]]\n" + GOOD.replace("zlib", "kt:alpha=nan"),
     "not a finite number"),
])
def test_suite_shapes_and_later_groups_are_checked_before_anything_runs(tmp_path, mdl, text,
                                                                      needle):
    runs = tmp_path / "runs"
    one_error_line(mdl("run", "--suite", _suite(tmp_path, text), "--results", str(runs)),
                   needle=needle)
    assert not runs.exists()


def test_a_suite_that_is_not_text_or_not_a_file(tmp_path, mdl):
    (tmp_path / "s.toml").write_bytes(b"\xff\xfe\x00garbage\x80")
    one_error_line(mdl("run", "--suite", str(tmp_path / "s.toml")), needle="not UTF-8")
    one_error_line(mdl("run", "--suite", str(tmp_path)), needle="a directory")


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> dict:
    import mdlbench

    folder = tmp_path_factory.mktemp("rec")
    mdlbench.run(["iid:n=300"], ["zlib"], results_dir=folder)
    return json.loads(next(folder.rglob("*.json")).read_text())


DAMAGE = {
    "no dataset": lambda d: d.pop("dataset"),
    "bits lots": lambda d: d.update(bits="lots"),
    "bits null": lambda d: d.update(bits=None),
    "bits negative": lambda d: d.update(bits=-8),
    "bits float": lambda d: d.update(bits=1.5),
    "bits bool": lambda d: d.update(bits=True),
    "status": lambda d: d.update(status="great"),
    "schema": lambda d: d.update(schema=0),
    "size": lambda d: d["dataset"].update(size="big"),
    "label": lambda d: d["dataset"].pop("label"),
    "dataset list": lambda d: d.update(dataset=[1, 2]),
    "spec": lambda d: d["compressor"].update(spec=3),
    "seed": lambda d: d.update(seed="zero"),
    "timing": lambda d: d.update(timing={"encode": {"min_s": "fast"}}),
    "parts": lambda d: d.update(parts=[{"name": 3}]),
    "error bits": lambda d: d.update(status="error"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_records_are_refused_by_field(tmp_path, mdl, record, damage):
    doc = json.loads(json.dumps(record))
    DAMAGE[damage](doc)
    (tmp_path / "r.json").write_text(json.dumps(doc))
    one_error_line(mdl("compare", str(tmp_path)), needle="not an mdlbench record")
    one_error_line(mdl("gate", "--baseline", str(tmp_path / "b.json"), "--results",
                       str(tmp_path), "--update"), needle="not an mdlbench record")


def test_records_that_do_not_parse(tmp_path, mdl):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    one_error_line(mdl("compare", str(tmp_path)), needle="nested too deeply")
    (tmp_path / "deep.json").write_text([1, 2].__repr__())
    one_error_line(mdl("compare", str(tmp_path)), needle="not an object")
    (tmp_path / "deep.json").write_bytes(b"\xff\xfe")
    one_error_line(mdl("compare", str(tmp_path)), needle="does not parse")


def test_a_new_writer_may_add_fields(tmp_path, mdl, record):
    doc = json.loads(json.dumps(record))
    doc["new_field"] = {"anything": 1}
    doc["dataset"]["new_field"] = 2
    doc["timing"]["encode"]["new_field"] = 3
    (tmp_path / "r.json").write_text(json.dumps(doc))
    assert mdl("compare", str(tmp_path)).code == 0


# ---------------------------------------------------------------------------------------- gate


@pytest.fixture(scope="module")
def gated(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    import mdlbench

    runs = tmp_path_factory.mktemp("gate")
    mdlbench.run(["iid:n=300"], ["zlib", "bz2"], results_dir=runs)
    base = runs.parent / f"{runs.name}-base.json"
    mdlbench.gate(base, [runs], update=True)
    return runs, json.loads(base.read_text())["cells"]


def _gate(mdl, tmp_path, runs, cells, *extra: str, doc=None):
    base = tmp_path / "base.json"
    base.write_text(json.dumps(doc if doc is not None else {"schema": 1, "cells": cells}))
    return mdl("gate", "--baseline", str(base), "--results", str(runs), *extra)


@pytest.mark.parametrize("tol", ["nan", "inf", "-inf", "nan%", "inf%", "1e999", "-1", "-0.5%",
                                 "abc", ""])
def test_a_tolerance_that_would_switch_the_gate_off_is_refused(tmp_path, mdl, gated, tol):
    runs, cells = gated
    worse = {k: v - 5000 for k, v in cells.items()}
    one_error_line(_gate(mdl, tmp_path, runs, worse, "--tolerance", tol), needle="tolerance")


@pytest.mark.parametrize("doc,needle", [
    ({"schema": 1, "cells": {}}, "has no cells"),
    ({"schema": 1}, "not an mdlbench baseline"),
    ([1, 2], "not an mdlbench baseline"),
    ({"schema": 2, "cells": {"a | b": 1}}, "schema 2"),
    ({"cells": {"no separator": 1}}, "is not 'DATASET | SPEC'"),
    ({"cells": {"a | b": -1}}, "not a number of bits"),
    ({"cells": {"a | b": True}}, "not a number of bits"),
    ({"cells": {"a | b": 1.5}}, "not a number of bits"),
    ({"cells": {"a | b": "lots"}}, "not a number of bits"),
])
def test_an_empty_or_foreign_baseline_is_an_error(tmp_path, mdl, gated, doc, needle):
    runs, cells = gated
    one_error_line(_gate(mdl, tmp_path, runs, cells, doc=doc), needle=needle)


def test_the_report_tells_unchanged_better_and_within_tolerance_apart(tmp_path, mdl, gated):
    runs, cells = gated
    a, b = sorted(cells)
    p = _gate(mdl, tmp_path, runs, cells)
    assert p.code == 0 and "2 unchanged, 0 better, 0 worse within tolerance" in p.out
    p = _gate(mdl, tmp_path, runs, {a: cells[a] - 8, b: cells[b] + 8}, "--tolerance", "8")
    assert p.code == 0 and "1 unchanged" not in p.out
    assert "0 unchanged, 1 better, 1 worse within tolerance" in p.out
    assert f"within tolerance {a}" in p.out and f"better {b}" in p.out
    p = _gate(mdl, tmp_path, runs, {a: cells[a] - 16, b: cells[b]}, "--tolerance", "8")
    assert p.code == 1 and "REGRESSION" in p.out and a in p.out
    p = _gate(mdl, tmp_path, runs, {a: cells[a] - 8, b: cells[b]}, "--tolerance", "0.0%")
    assert p.code == 1 and "REGRESSION" in p.out
