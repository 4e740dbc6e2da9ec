"""What is read: regular files only, of a stated size, checked before reading; directories that
fail on what they cannot read; dataset labels that say which file and which column; manifests
checked; `list` and `compare` that survive a missing dataset and a baseline among records."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from special_files import node, one_error_line, root_only

from mdlbench import datasets, fileio, limits
from mdlbench.datasets import shipped

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(120)  # a FIFO that blocks fails here instead of hanging


@pytest.fixture
def fifo(tmp_path) -> Path:
    os.mkfifo(tmp_path / "fifo.json")
    return tmp_path / "fifo.json"


def test_fifos_are_refused_wherever_a_file_is_read(tmp_path, mdl, fifo):
    one_error_line(mdl("run", str(fifo), "-c", "zlib"), needle="a FIFO, not a regular file")
    one_error_line(mdl("encode", "-c", "zlib", str(fifo), str(tmp_path / "o")), needle="a FIFO")
    one_error_line(mdl("decode", str(fifo), str(tmp_path / "o")), needle="a FIFO")
    one_error_line(mdl("run", "--suite", str(fifo)), needle="a FIFO")
    one_error_line(mdl("gate", "--baseline", str(fifo)), needle="a FIFO")
    runs = tmp_path / "runs"
    assert mdl("run", "iid:n=200", "-c", "zlib", "--results", str(runs), "-q").code == 0
    os.mkfifo(runs / "zz.json")
    one_error_line(mdl("compare", str(runs)), needle="a FIFO")
    assert not (tmp_path / "o").exists()


@root_only
def test_a_zero_device_node_is_refused_unread(tmp_path, mdl):
    zero = node(tmp_path / "zero", 1, 5)
    one_error_line(mdl("run", str(zero), "-c", "zlib"), needle="a character device")
    one_error_line(mdl("encode", "-c", "zlib", str(zero), str(tmp_path / "o")),
                   needle="a character device")


def test_a_huge_sparse_file_is_refused_by_its_size(tmp_path, mdl):
    sparse = tmp_path / "sparse"
    with open(sparse, "wb") as f:
        f.truncate(20 << 30)
    one_error_line(mdl("run", str(sparse), "-c", "zlib"), needle="larger than the limit")
    one_error_line(mdl("decode", str(sparse), str(tmp_path / "o")), needle="larger than")
    with pytest.raises(limits.LimitError):
        fileio.read_regular(sparse, limit=1 << 20)


def test_proc_files_of_unreported_size_are_read_up_to_the_limit(tmp_path):
    data = fileio.read_regular("/proc/self/status")
    assert b"VmSize" in data
    with pytest.raises(limits.LimitError):
        fileio.read_regular("/proc/self/status", limit=16)


def _tree(tmp_path: Path) -> Path:
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_bytes(b"readable\n" * 20)
    (d / "sub" / "b.txt").write_bytes(b"also readable\n" * 20)
    return d


@pytest.mark.parametrize("trap,needle", [
    ("fifo", "a FIFO"), ("dangling", "symlink to a missing file"),
    ("dir-link", "symlink to a directory"), ("loop", "symlink to a directory")])
def test_a_directory_fails_on_what_it_cannot_read(tmp_path, mdl, trap, needle):
    d = _tree(tmp_path)
    if trap == "fifo":
        os.mkfifo(d / "sub" / "pipe")
    elif trap == "dangling":
        (d / "sub" / "link").symlink_to(tmp_path / "gone")
    elif trap == "dir-link":
        (d / "sub" / "link").symlink_to(tmp_path)
    else:
        (d / "sub" / "loop").symlink_to(d)
    one_error_line(mdl("run", str(d), "-c", "zlib"), needle=needle)


def test_an_unlistable_subdirectory_is_an_error(tmp_path, mdl, monkeypatch):
    d = _tree(tmp_path)
    if os.geteuid() != 0:
        os.chmod(d / "sub", 0)
    else:  # root lists anything: make the kernel's answer for this one folder EACCES
        real = os.scandir

        def scandir(path="."):
            if os.fspath(path) == str(d / "sub"):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        one_error_line(mdl("run", str(d), "-c", "zlib"), needle="Permission denied")
    finally:
        os.chmod(d / "sub", 0o755)


def test_path_labels_are_one_per_file_and_never_a_registered_name(tmp_path, mdl, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bible").write_bytes(b"a user's file that happens to be called bible\n" * 40)
    Path("link").symlink_to("bible")
    runs = str(tmp_path / "runs")
    for name in ("./bible", str(tmp_path / "bible"), "link", "../" + tmp_path.name + "/bible"):
        assert mdl("run", name, "-c", "zlib", "--results", runs, "-q").code == 0
    assert mdl("run", "bible:head=2000", "-c", "zlib", "--results", runs, "-q").code == 0
    labels = {json.loads(f.read_text())["dataset"]["label"] for f in Path(runs).rglob("*.json")}
    mine = "'" + os.path.realpath("bible") + "'"
    assert labels == {mine, "bible:head=2000"}
    p = mdl("compare", runs, "--format", "csv")
    assert p.code == 0 and mine in p.out.splitlines()[0]
    base = tmp_path / "base.json"
    assert mdl("gate", "--baseline", str(base), "--results", runs, "--update").code == 0
    assert sorted(json.loads(base.read_text())["cells"]) == sorted(
        [f"{mine} | zlib", "bible:head=2000 | zlib"])


def test_labels_say_which_column_and_layouts_cannot_collide(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("x,y,a\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(60)))
    y, a = datasets.load(str(csv), "y"), datasets.load(str(csv), "a")
    assert y.name == f"'{csv}':labels=y" and a.name == f"'{csv}':labels=a"
    from mdlbench.datasets.files import path_label

    assert path_label(csv, "odd col/1") == f"'{csv}':labels='odd col/1'"
    assert path_label(tmp_path / "it's") == "'" + str(tmp_path) + "/it'\"'\"'s'"
    from mdlbench.harness.runner import Layout

    d = tmp_path / "d"
    d.mkdir()
    (d / "per-file").write_bytes(b"x" * 100)
    (d / "other").write_bytes(b"y" * 100)
    whole_dir = Layout(per_file=True).label(datasets.load(str(d)))
    the_file = Layout().label(datasets.load(str(d / "per-file")))
    assert whole_dir == f"'{d}'/per-file" and the_file == f"'{d}/per-file'"


def _data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped data folder, used in place of the real one."""
    copy = tmp_path / "data"
    shutil.copytree(shipped.datasets_dir(), copy)
    monkeypatch.setattr(shipped, "datasets_dir", lambda: copy)
    return copy


def test_list_shows_a_missing_shipped_dataset_as_missing(tmp_path, mdl, monkeypatch):
    copy = _data_copy(tmp_path, monkeypatch)
    (copy / "bible" / "bible.txt").unlink()
    (copy / "enwik8" / "MANIFEST.json").unlink()
    p = mdl("list", "--json")
    assert p.code == 0, p.err
    present = {d["name"]: d["present"] for d in json.loads(p.out)["datasets"]}
    assert present["bible"] == present["enwik8"] == "missing"
    assert present["canterbury"] == "shipped"
    p = mdl("list")
    assert p.code == 0 and "MISSING" in p.out
    one_error_line(mdl("run", "bible", "-c", "zlib"), needle="no such file")


@pytest.mark.parametrize("damage,needle", [
    (lambda m: m.pop("files"), "no list of 'files'"),
    (lambda m: m.update(files=[]), "no list of 'files'"),
    (lambda m: m["files"][0].update(file="../../etc/passwd"), "plain relative"),
    (lambda m: m["files"][0].update(size="big"), "'size'"),
    (lambda m: m["files"][0].update(sha256="xyz"), "'sha256'"),
    (lambda m: m["files"][0].pop("sha256"), "no sha256"),
    (lambda m: m.pop("licence"), "'licence'"),
])
def test_a_damaged_manifest_is_one_line(tmp_path, mdl, monkeypatch, damage, needle):
    copy = _data_copy(tmp_path, monkeypatch)
    path = copy / "bible" / "MANIFEST.json"
    m = json.loads(path.read_text())
    damage(m)
    path.write_text(json.dumps(m))
    one_error_line(mdl("run", "bible", "-c", "zlib"), needle=needle)


def test_compare_skips_a_baseline_among_records_but_not_other_junk(tmp_path, mdl):
    p = mdl("compare", str(ROOT / "results"), "--format", "csv")
    assert p.code == 0, p.err
    runs = tmp_path / "runs"
    assert mdl("run", "iid:n=200", "-c", "zlib", "--results", str(runs), "-q").code == 0
    (runs / "baseline.json").write_text(json.dumps({"schema": 1, "cells": {"x | y": 1}}))
    assert mdl("compare", str(runs)).code == 0
    one_error_line(mdl("compare", str(runs / "baseline.json")), needle="not an mdlbench record")
    (runs / "other.json").write_text(json.dumps({"hello": 1}))
    one_error_line(mdl("compare", str(runs)), needle="not an mdlbench record")


def test_suite_and_baseline_size_limits(tmp_path, mdl, monkeypatch):
    monkeypatch.setattr(limits, "JSON_MAX_BYTES", 100)
    from mdlbench.harness import suite
    from mdlbench.results import store

    monkeypatch.setattr(suite.limits, "JSON_MAX_BYTES", 100)
    monkeypatch.setattr(store.limits, "JSON_MAX_BYTES", 100)
    big = tmp_path / "big.toml"
    big.write_text('datasets = ["iid"]\ncompressors = ["zlib"]\n' + "# pad\n" * 40)
    one_error_line(mdl("run", "--suite", str(big)), needle="larger than the limit")
    assert stat.S_ISREG(os.stat(big).st_mode)
