"""The command line as a user meets it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def mdl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mdlbench.cli", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=300)


def assert_usage_error(p: subprocess.CompletedProcess, needle: str) -> None:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    assert any(needle in ln for ln in lines), p.stderr
    if needle != "No such option":
        assert len(lines) == 1, p.stderr
    else:  # click's own usage errors add "Usage:" and a hint line
        assert len(lines) <= 3, p.stderr


def test_help_explains():
    p = mdl("--help")
    assert p.returncode == 0 and "bits" in p.stdout
    p = mdl("run", "--help")
    assert p.returncode == 0 and "--per-file" in p.stdout and "zstd:level=1..22" in p.stdout


def test_list_shows_compressors_and_datasets():
    p = mdl("list", "--json")
    cat = json.loads(p.stdout)
    names = {c["name"] for c in cat["compressors"]}
    assert {"zstd", "brotli", "xz", "bz2", "zlib", "lz4", "ppmd", "zpaq"} <= names
    canterbury = next(d for d in cat["datasets"] if d["name"] == "canterbury")
    assert canterbury["size"] == 2_810_784 and canterbury["licence"] and canterbury["sha256"]


def test_run_compare_gate_end_to_end(tmp_path):
    runs = tmp_path / "runs"
    p = mdl("run", "iid:n=5000", "markov:n=5000", "-c", "zlib:level=1..3", "-c", "bz2",
            "--results", str(runs))
    assert p.returncode == 0, p.stderr
    assert "zlib:level=2" in p.stdout and "(source limit)" in p.stdout
    assert len(list(runs.rglob("*.json"))) == 8
    p = mdl("compare", str(runs), "--format", "csv", "--metric", "bits")
    assert p.returncode == 0 and p.stdout.startswith("compressor,")
    out = tmp_path / "board.md"
    p = mdl("compare", str(runs), "--format", "md", "-o", str(out))
    assert p.returncode == 0 and out.read_text().startswith("| compressor |")
    base = tmp_path / "base.json"
    assert mdl("gate", "--baseline", str(base), "--results", str(runs), "--update").returncode == 0
    p = mdl("gate", "--baseline", str(base), "--results", str(runs))
    assert p.returncode == 0 and "gate passed" in p.stdout
    doc = json.loads(base.read_text())
    cell = sorted(doc["cells"])[0]
    doc["cells"][cell] -= 1
    base.write_text(json.dumps(doc))
    p = mdl("gate", "--baseline", str(base), "--results", str(runs))
    assert p.returncode == 1 and "REGRESSION" in p.stdout and cell in p.stdout


def test_per_file_parts_table(tmp_path):
    runs = tmp_path / "runs"
    assert mdl("run", "canterbury", "--per-file", "-c", "zlib", "-c", "bz2:level=1", "--results",
               str(runs), "-q").returncode == 0
    p = mdl("compare", str(runs), "--parts", "--format", "md")
    assert p.returncode == 0
    zlib = next(ln for ln in p.stdout.splitlines() if ln.startswith("| zlib"))
    assert "54,170" in zlib and "727,820" in zlib  # alice29.txt and the published total


def test_encode_decode_files(tmp_path):
    src = ROOT / "datasets" / "canterbury" / "fields.c"
    enc, dec = tmp_path / "f.mdl", tmp_path / "f.c"
    assert mdl("encode", "-c", "xz:preset=9", str(src), str(enc)).returncode == 0
    assert mdl("decode", str(enc), str(dec)).returncode == 0
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
    (["run", "/proc/self/mem"], "cannot read"),
    (["run"], "no dataset given"),
    (["run", "canterbury", "--chunk-size", "0"], "chunk-size"),
    (["run", "canterbury", "--bogus"], "No such option"),
    (["decode", "README.md", "/tmp/x"], "not an mdlbench stream"),
    (["decode", "nope.mdl", "/tmp/x"], "no such file"),
    (["gate", "--baseline", "nope.json"], "no such baseline"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    assert_usage_error(mdl(*args), needle)


def test_empty_file_and_corrupt_results(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    assert_usage_error(mdl("run", str(tmp_path / "empty")), "input is empty")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "bad.json").write_text("{oops")
    assert_usage_error(mdl("compare", str(tmp_path / "runs")), "corrupt results file")
    (tmp_path / "base.json").write_text("[1, 2")
    assert_usage_error(mdl("gate", "--baseline", str(tmp_path / "base.json"), "--results",
                           str(tmp_path / "runs")), "does not parse")
    good = tmp_path / "good"
    assert mdl("run", "iid:n=100", "-c", "zlib", "--results", str(good)).returncode == 0
    assert_usage_error(mdl("gate", "--baseline", str(tmp_path / "base.json"), "--results",
                           str(good)), "does not parse")


def test_suite_file(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('datasets = ["iid:n=2000"]\ncompressors = ["zlib", "bz2"]\n'
                     '[[group]]\ndatasets = ["markov:n=2000"]\ncompressors = ["lz4"]\n')
    p = mdl("run", "--suite", str(suite), "--results", str(tmp_path / "r"), "-q")
    assert p.returncode == 0, p.stderr
    assert len(list((tmp_path / "r").rglob("*.json"))) == 3
    suite.write_text('datasets = ["iid"]\ncompressorz = ["zlib"]\n')
    assert_usage_error(mdl("run", "--suite", str(suite)), "unknown key 'compressorz'")
