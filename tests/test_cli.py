"""The command line as a user meets it: exit codes, one-line errors, tables. Called in process
(the `mdl` fixture); one real subprocess proves the installed entry point end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def assert_usage_error(p, needle: str) -> None:
    assert p.code == 2, p.err
    assert "Traceback" not in p.err
    lines = [ln for ln in p.err.strip().splitlines() if ln.strip()]
    assert any(needle in ln for ln in lines), p.err
    if needle != "No such option":
        assert len(lines) == 1, p.err
    else:  # click's own usage errors add "Usage:" and a hint line
        assert len(lines) <= 3, p.err


def test_help_explains(mdl):
    p = mdl("--help")
    assert p.code == 0 and "bits" in p.out
    p = mdl("run", "--help")
    assert p.code == 0 and "--per-file" in p.out and "zstd:level=1..22" in p.out
    assert "--repeat" in p.out and "--min-time" in p.out and "contended" in p.out


def test_list_shows_compressors_and_datasets(mdl):
    p = mdl("list", "--json")
    cat = json.loads(p.out)
    names = {c["name"] for c in cat["compressors"]}
    assert {"zstd", "brotli", "xz", "bz2", "zlib", "lz4", "ppmd", "zpaq"} <= names
    canterbury = next(d for d in cat["datasets"] if d["name"] == "canterbury")
    assert canterbury["size"] == 2_810_784 and canterbury["licence"] and canterbury["sha256"]


def test_run_compare_gate_end_to_end(mdl, tmp_path):
    runs = tmp_path / "runs"
    p = mdl("run", "iid:n=5000", "markov:n=5000", "-c", "zlib:level=1..3", "-c", "bz2",
            "--results", str(runs))
    assert p.code == 0, p.err
    assert "zlib:level=2" in p.out and "(source limit)" in p.out
    assert len(list(runs.rglob("*.json"))) == 8
    p = mdl("compare", str(runs), "--format", "csv", "--metric", "bits")
    assert p.code == 0 and p.out.startswith("compressor,")
    out = tmp_path / "board.md"
    p = mdl("compare", str(runs), "--format", "md", "-o", str(out))
    assert p.code == 0  # the board's caption names the metric and its unit, then the table
    caption, table = out.read_text().split("\n\n", 1)
    assert caption.startswith("bpb: bits per symbol") and table.startswith("| compressor |")
    assert "(source limit)" in table and "formulas, not streams" in caption
    p = mdl("compare", str(runs), "--view", "cells", "--format", "md")
    assert p.code == 0 and "| markov:n=5000 \\| bz2 |" in p.out
    base = tmp_path / "base.json"
    assert mdl("gate", "--baseline", str(base), "--results", str(runs), "--update").code == 0
    p = mdl("gate", "--baseline", str(base), "--results", str(runs))
    assert p.code == 0 and "gate passed" in p.out
    doc = json.loads(base.read_text())
    cell = sorted(doc["cells"])[0]
    doc["cells"][cell] -= 8
    base.write_text(json.dumps(doc))
    p = mdl("gate", "--baseline", str(base), "--results", str(runs))
    assert p.code == 1 and "REGRESSION" in p.out and cell in p.out


def test_unverified_cells_are_marked(mdl, tmp_path):
    runs = tmp_path / "runs"
    p = mdl("run", "iid:n=3000", "-c", "zlib", "-c", "bz2", "--no-verify", "--results", str(runs))
    assert p.code == 0, p.err
    assert "†" in p.out and "not decoded back" in p.out
    base = tmp_path / "base.json"
    p = mdl("gate", "--baseline", str(base), "--results", str(runs), "--update")
    assert_usage_error(p, "refusing to write a baseline with 2 cell(s) that are not verified: "
                          "iid:n=3000 | bz2 (unverified); iid:n=3000 | zlib (unverified)")
    base.write_text(json.dumps({"cells": {"iid:n=3000 | zlib": 8}}))
    p = mdl("gate", "--baseline", str(base), "--results", str(runs))
    assert p.code == 1 and "UNVERIFIED" in p.out


def test_per_file_parts_table(mdl, tmp_path):
    runs = tmp_path / "runs"
    assert mdl("run", "canterbury", "--per-file", "-c", "zlib", "-c", "bz2:level=1", "--results",
               str(runs), "-q").code == 0
    p = mdl("compare", str(runs), "--view", "parts", "--format", "md")
    assert p.code == 0
    zlib = next(ln for ln in p.out.splitlines() if ln.startswith("| zlib"))
    assert "54,170" in zlib and "727,820" in zlib  # alice29.txt and the published total


def test_encode_decode_files(mdl, tmp_path):
    src = ROOT / "datasets" / "canterbury" / "fields.c"
    enc, dec = tmp_path / "f.mdl", tmp_path / "f.c"
    assert mdl("encode", "-c", "xz:preset=9", str(src), str(enc)).code == 0
    assert mdl("decode", str(enc), str(dec)).code == 0
    assert dec.read_bytes() == src.read_bytes()
    enc.write_bytes(enc.read_bytes()[:-7])
    p = mdl("decode", str(enc), str(tmp_path / "out"))
    assert_usage_error(p, "corrupt or truncated")
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize("args,needle", [
    (["run", "no/such/file"], "unknown dataset or missing path"),
    (["run", "canterbury", "-c", "nosuch"], "unknown compressor 'nosuch'"),
    (["run", "canterbury", "-c", "zstd:level=99"], "above the maximum"),
    (["run", "canterbury", "-c", "zstd:lvl=3"], "unknown parameter 'lvl'"),
    (["run", "canterbury", "-c", "zstd:level"], "expected key=value"),
    (["run", "canterbury:file=nope.txt"], "no file 'nope.txt'"),
    (["run", "/proc/self/mem"], "cannot read"),
    (["run"], "no dataset given"),
    (["run", "canterbury", "--chunk-size", "0"], "chunk-size"),
    (["run", "canterbury", "--repeat", "0"], "--repeat must be at least 1"),
    (["run", "canterbury", "-j", "0"], "--jobs must be at least 1"),
    (["run", "canterbury", "--bogus"], "No such option"),
    (["compare", "--view", "spread", "README.md"], "two or more results folders"),
    (["decode", "README.md", "/tmp/x"], "not an mdlbench stream"),
    (["decode", "nope.mdl", "/tmp/x"], "no such file"),
    (["gate", "--baseline", "nope.json"], "no such baseline"),
])
def test_bad_input_is_one_line_exit_2(mdl, monkeypatch, args, needle):
    monkeypatch.chdir(ROOT)
    assert_usage_error(mdl(*args), needle)


def test_empty_file_and_corrupt_results(mdl, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    assert_usage_error(mdl("run", str(tmp_path / "empty")), "input is empty")
    run = mdl("run", str(tmp_path / "empty"), "-c", "zstd", "--results", str(tmp_path / "r"))
    encode = mdl("encode", "-c", "zstd", str(tmp_path / "empty"), str(tmp_path / "e.mdl"))
    assert run.code == encode.code == 2 and run.err == encode.err  # run and encode agree
    assert not (tmp_path / "e.mdl").exists() and not (tmp_path / "r").exists()
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "bad.json").write_text("{oops")
    assert_usage_error(mdl("compare", str(tmp_path / "runs")), "corrupt results file")
    (tmp_path / "runs" / "bad.json").write_text('{"bits": 1}')
    assert_usage_error(mdl("compare", str(tmp_path / "runs")), "not an mdlbench record")
    (tmp_path / "base.json").write_text("[1, 2")
    assert_usage_error(mdl("gate", "--baseline", str(tmp_path / "base.json"), "--results",
                           str(tmp_path / "runs")), "does not parse")
    good = tmp_path / "good"
    assert mdl("run", "iid:n=100", "-c", "zlib", "--results", str(good)).code == 0
    assert_usage_error(mdl("gate", "--baseline", str(tmp_path / "base.json"), "--results",
                           str(good)), "does not parse")


def test_suite_file(mdl, tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('datasets = ["iid:n=2000"]\ncompressors = ["zlib", "bz2"]\n'
                     '[[group]]\ndatasets = ["markov:n=2000"]\ncompressors = ["lz4"]\n')
    p = mdl("run", "--suite", str(suite), "--results", str(tmp_path / "r"), "-q")
    assert p.code == 0, p.err
    assert len(list((tmp_path / "r").rglob("*.json"))) == 3
    assert_usage_error(mdl("run", "--suite", str(suite), "iid"), "not both")
    suite.write_text('datasets = ["iid"]\ncompressorz = ["zlib"]\n')
    assert_usage_error(mdl("run", "--suite", str(suite)), "unknown key 'compressorz'")


def test_spread_of_two_runs(mdl, tmp_path):
    for run in ("a", "b"):
        assert mdl("run", "iid:n=4000", "-c", "zlib", "-c", "lz4", "--results",
                   str(tmp_path / run), "-q").code == 0
    p = mdl("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--view", "spread",
            "--format", "md")
    assert p.code == 0, p.err
    row = next(ln for ln in p.out.splitlines() if "\\| zlib |" in ln)
    assert row.count(" %") == 2  # encode and decode spread


def test_entry_point_in_a_real_process(tmp_path):
    """What only a process shows: its exit status and all it wrote to stderr (a run to the end
    in a real process is test_grid's kill -9 test)."""
    p = subprocess.run([sys.executable, "-m", "mdlbench.cli", "run", "no/such/file"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("mdlbench: error: unknown dataset")
    assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("terminal", [True, False])
def test_result_tables_never_split_a_number_however_narrow(tmp_path, monkeypatch, terminal):
    """A 40-column terminal or pipe: every figure of the table is printed whole (a terminal
    wraps the lines instead of rich squeezing columns empty or folding 511,225 into 511,22/5);
    piped, each row stays on one line."""
    import io

    import mdlbench
    from mdlbench import cli
    from mdlbench.results import tables

    recs = mdlbench.run(["iid:n=2000"], ["zstd:level=19", "zlib"], results_dir=tmp_path,
                        progress=False, repeat=1)
    table = mdlbench.table(recs, "cells")
    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", cli._Console(file=buf, width=40, force_terminal=terminal,
                                                 color_system=None))
    cli._print_table(table, "cells")
    text = buf.getvalue()
    figures = [t for _, cells in tables.rows(table) for t, _ in cells if t.strip()]
    assert len(figures) > 10
    for figure in figures:
        assert figure in text, (figure, text)
    if not terminal:
        for name, _ in tables.rows(table):
            assert sum(name in line for line in text.splitlines()) == 1, text


def test_a_terminal_table_shows_control_characters_of_names_as_escapes():
    """A file name holding an escape sequence or an undecodable byte cannot restyle the
    terminal or break its encoding: the table shows their escapes."""
    from mdlbench import cli

    assert cli._shown("\x1b[31mred\udcff.txt") == "\\x1b[31mred\\udcff.txt"


def test_metric_with_a_view_that_shows_every_figure_is_a_usage_error(mdl, tmp_path):
    """`--view parts --metric bpb` printed bytes as if --metric meant nothing: it says so."""
    runs = tmp_path / "runs"
    assert mdl("run", "iid:n=1000", "-c", "zlib", "--results", str(runs), "-q").code == 0
    assert mdl("compare", str(runs), "--view", "cells").code == 0
    p = mdl("compare", str(runs), "--view", "cells", "--metric", "bpb")
    assert_usage_error(p, "--metric chooses the board's figure; --view cells shows all")
    assert mdl("compare", str(runs), "--metric", "ratio").code == 0
