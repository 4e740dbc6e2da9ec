"""Where outputs go: atomically to regular files, in place into FIFOs and sink devices, never over
a special file, a directory or the input itself, and one line for every way that fails. Device
nodes and FIFOs are made here, in tmp_path (mknod needs root: those tests skip without it)."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest
from special_files import identity, node, one_error_line, root_only

from mdlbench import fileio
from mdlbench.compressors import REGISTRY, Compressor
from mdlbench.errors import OutputError
from mdlbench.results import store

ROOT = Path(__file__).resolve().parents[1]
TEXT = b"the quick brown fox jumps over the lazy dog\n" * 100
@pytest.fixture
def stream(tmp_path, mdl) -> Path:
    (tmp_path / "in.txt").write_bytes(TEXT)
    out = tmp_path / "in.mdl"
    assert mdl("encode", "-c", "zstd", str(tmp_path / "in.txt"), str(out)).code == 0
    return out


@root_only
def test_decode_into_device_nodes_streams_and_never_replaces_them(tmp_path, mdl, stream):
    null, full = node(tmp_path / "null", 1, 3), node(tmp_path / "full", 1, 7)
    link = tmp_path / "null-link"
    link.symlink_to(null)
    before = {p: identity(p) for p in (null, full, link)}
    assert mdl("decode", str(stream), str(null)).code == 0
    assert mdl("decode", str(stream), str(link)).code == 0
    one_error_line(mdl("decode", str(stream), str(full)), needle="No space left on device")
    one_error_line(mdl("encode", "-c", "zlib", str(tmp_path / "in.txt"), str(full)),
                   needle="No space left on device")
    assert {p: identity(p) for p in before} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mdlbench-")]


@root_only
def test_other_device_nodes_are_refused_unopened(tmp_path, mdl, stream):
    mem = node(tmp_path / "mem", 1, 1)  # /dev/mem's numbers: never opened, let alone written
    blk = node(tmp_path / "blk", 7, 255, stat.S_IFBLK)
    for target in (mem, blk):
        before = identity(target)
        one_error_line(mdl("decode", str(stream), str(target)), needle="device")
        assert identity(target) == before


def test_fifo_output_is_written_in_place_or_refused_without_a_reader(tmp_path, mdl, stream):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    one_error_line(mdl("decode", str(stream), str(fifo)), needle="no process is reading")
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(200):  # the reader is blocked in open() until a writer comes
            p = mdl("decode", str(stream), str(fifo))
            if p.code == 0:
                break
    finally:
        if t.is_alive() and not got:
            with open(fifo, "wb"):  # release the reader if decode never wrote
                pass
        t.join(10)
    assert got == [TEXT] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_directory_dangling_link_and_file_parent_are_refused(tmp_path, mdl, stream):
    (tmp_path / "dir").mkdir()
    one_error_line(mdl("decode", str(stream), str(tmp_path / "dir")), needle="a directory")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    one_error_line(mdl("decode", str(stream), str(dangling)), needle="symlink to a missing")
    assert not (tmp_path / "nowhere").exists() and dangling.is_symlink()
    one_error_line(mdl("decode", str(stream), str(tmp_path / "in.txt" / "x")))
    one_error_line(mdl("decode", str(stream), str(tmp_path / ("n" * 300))), needle="too long")
    assert (tmp_path / "in.txt").read_bytes() == TEXT


def test_a_symlink_to_a_file_replaces_the_file_and_keeps_the_link(tmp_path, mdl, stream):
    target = tmp_path / "target.txt"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "link"
    link.symlink_to(target)
    assert mdl("decode", str(stream), str(link)).code == 0
    assert link.is_symlink() and target.read_bytes() == TEXT
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # its permissions kept


@pytest.mark.parametrize("how", ["same path", "hard link", "symlink", "dot-dot"])
def test_encode_and_decode_never_write_over_their_input(tmp_path, mdl, stream, how):
    src = tmp_path / "in.txt"
    other = {"same path": src, "hard link": tmp_path / "hard", "symlink": tmp_path / "soft",
             "dot-dot": tmp_path / "sub" / ".." / "in.txt"}[how]
    if how == "hard link":
        os.link(src, other)
    elif how == "symlink":
        other.symlink_to(src)
    elif how == "dot-dot":
        (tmp_path / "sub").mkdir()
    one_error_line(mdl("encode", "-c", "zlib", str(src), str(other)), needle="the same file")
    assert src.read_bytes() == TEXT
    blob = stream.read_bytes()
    one_error_line(mdl("decode", str(stream), str(stream)), needle="the same file")
    assert stream.read_bytes() == blob


class LosesAByte(Compressor):
    """A codec whose decoder drops the last byte (as pyppmd's one-call variant-I encoder once
    made `ppmd` do on ptt5)."""

    name = "loses-a-byte"

    def compress(self, data: bytes) -> bytes:
        return data

    def decompress(self, blob: bytes) -> bytes:
        return blob[:-1]


def test_encode_checks_its_own_round_trip(tmp_path, mdl, monkeypatch):
    """A stream that does not decode back: encode says so, writes nothing, exits 1;
    --no-verify writes it, marked unchecked."""
    monkeypatch.setitem(REGISTRY, LosesAByte.name, LosesAByte)
    out = tmp_path / "ptt5.mdl"
    p = mdl("encode", "-c", "loses-a-byte", str(ROOT / "datasets/canterbury/ptt5"), str(out))
    one_error_line(p, code=1, needle="does not decode back")
    assert not out.exists()
    p = mdl("encode", "--no-verify", "-c", "loses-a-byte",
            str(ROOT / "datasets/canterbury/ptt5"), str(out))
    assert p.code == 0 and "unverified" in p.err and out.exists()
    p = mdl("encode", "-c", "zstd", str(ROOT / "datasets/canterbury/fields.c"), str(out))
    assert p.code == 0 and "decoded back and compared" in p.err


def test_a_full_disk_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fileio.os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device"):
        store.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_results_folder_that_cannot_be_written_fails_before_any_cell(tmp_path, mdl, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    one_error_line(mdl("run", "iid:n=200", "-c", "zlib", "--results", str(tmp_path / "file")),
                   needle="not a folder")
    one_error_line(mdl("run", "iid:n=200", "-c", "zlib", "--results",
                       str(tmp_path / "file" / "sub")))
    ran = []
    from mdlbench.harness import grid

    monkeypatch.setattr(grid, "run_cell", lambda *a, **k: ran.append(a))

    def read_only(*_a, **_k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(fileio.tempfile, "mkstemp", read_only)  # a read-only mount, as root too
    one_error_line(mdl("run", "iid:n=200", "-c", "zlib", "--results", str(tmp_path / "ro")),
                   needle="Read-only file system")
    assert not ran


def test_a_full_disk_while_a_grid_writes_is_one_line_and_no_partial_record(tmp_path, mdl,
                                                                          monkeypatch):
    real, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    runs = tmp_path / "runs"
    p = mdl("run", "iid:n=300", "-c", "zlib", "-c", "bz2", "-c", "lz4", "--results", str(runs),
            "-q")
    one_error_line(p, needle="No space left on device")
    files = list(runs.rglob("*"))
    assert len([f for f in files if f.suffix == ".json"]) == 1  # the first cell's record
    assert not [f for f in files if f.name.startswith(".mdlbench-")]


def test_gate_update_to_a_directory_or_fifo_is_refused(tmp_path, mdl):
    runs = tmp_path / "runs"
    assert mdl("run", "iid:n=300", "-c", "zlib", "--results", str(runs), "-q").code == 0
    (tmp_path / "dir").mkdir()
    one_error_line(mdl("gate", "--baseline", str(tmp_path / "dir"), "--results", str(runs),
                       "--update"), needle="a directory")
    os.mkfifo(tmp_path / "b.json")
    one_error_line(mdl("gate", "--baseline", str(tmp_path / "b.json"), "--results", str(runs),
                       "--update"), needle="no process is reading")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "b.json").st_mode)
