"""Records: the typed form and its JSON (old and new schema), when a stored cell may be reused,
and how its status shows in every table, the gate, the HTML page and the plots."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

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
