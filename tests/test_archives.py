"""Hostile archives and credentials in URLs, thrown at the real download path: each archive is
built here, served from an HTTP server on 127.0.0.1 that this test starts, and fetched, unpacked
and run by mdlbench as a user would (Python API and the command line in a child process).

What must hold (issue #22): one bad member refuses the whole archive with one line naming it;
nothing is written outside the cache and a file outside stays as it was; the refused archive and
the folders made for it are gone; a bomb is refused from its headers, and the bytes written
while unpacking stop at the limit whatever the headers claim. A URL's user:password@ and
token-like parameters reach no record, output, progress line or error message.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_files import Server, serve

import mdlbench
from mdlbench import limits
from mdlbench.datasets import fetch, load
from mdlbench.datasets.archive import copy_capped
from mdlbench.datasets.download import redact
from mdlbench.errors import DataError, LimitError, MdlbenchError

REPO = Path(mdlbench.__file__).resolve().parents[1]
VICTIM = b"a file outside the cache, which no archive may change\n"
GOOD = {"data/a.txt": b"the quick brown fox jumps over the lazy dog\n" * 50,
        "data/sub/b.bin": bytes(range(256)) * 8}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as state:
        yield state


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Downloads go to tmp/cache (not made yet), never the user's cache; no proxy."""
    root = tmp_path / "cache"
    monkeypatch.setenv("MDLBENCH_DATA", str(root))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the cache holding one file that must survive every archive."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.txt").write_bytes(VICTIM)
    return folder


def tree(root: Path, skip: str) -> dict[str, object]:
    """Every entry under `root` but `skip`: its type and, for a file, its bytes."""
    found: dict[str, object] = {}
    for dirpath, dirs, files in os.walk(root):
        if dirpath == str(root):
            dirs[:] = [d for d in dirs if d != skip]
        for name in dirs + files:
            p = Path(dirpath, name)
            st = p.lstat()
            found[str(p)] = (p.read_bytes() if stat.S_ISREG(st.st_mode) else
                             os.readlink(p) if stat.S_ISLNK(st.st_mode) else stat.S_IFMT(st.st_mode))
    return found


# -- archives, built here -------------------------------------------------------------------------

Entry = tuple[str, str, bytes | str]
"""(kind, name, data or link target): kind is file, dir, symlink, hardlink, chr or fifo."""


def tar_of(entries: list[Entry], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as tar:
        for kind, name, data in entries:
            info = tarfile.TarInfo(name)
            info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE,
                         "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                         "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                info.linkname = str(data)
            if kind == "chr":
                info.devmajor, info.devminor = 1, 3
            body = data if kind == "file" and isinstance(data, bytes) else b""
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body) if body else None)
    return buf.getvalue()


def zip_of(entries: list[Entry]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for kind, name, data in entries:
            info = zipfile.ZipInfo(name + "/" if kind == "dir" else name)
            info.create_system = 3  # Unix: external_attr holds the file type
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = {"file": stat.S_IFREG | 0o644, "dir": stat.S_IFDIR | 0o755,
                    "symlink": stat.S_IFLNK | 0o777}[kind]
            info.external_attr = mode << 16
            z.writestr(info, data if isinstance(data, bytes) else data.encode())
    return buf.getvalue()


UP = "../../../../outside"
"""From the unpack folder (cache/url/HASH/x), four levels up is the test's folder: `outside`."""


def hostile(outside: Path) -> dict[str, tuple[str, bytes, str]]:
    """Case -> (file name served, archive, what the one error line must say)."""
    ok: Entry = ("file", "ok.txt", b"a harmless first member\n")
    victim, abs_new = outside / "victim.txt", outside / "new.txt"
    tar = {
        "tar ../ traversal": [ok, ("file", f"{UP}/victim.txt", b"overwritten\n")],
        "tar ../ inside a name": [ok, ("file", f"d/../../{UP}/new.txt", b"new\n")],
        "tar absolute path": [ok, ("file", str(abs_new), b"new\n")],
        "tar symlink then a member through it": [
            ok, ("symlink", "link", str(outside)), ("file", "link/new.txt", b"new\n")],
        "tar relative symlink": [("symlink", "link", UP), ("file", "link/new.txt", b"new\n")],
        "tar hard link then a member of its name": [
            ok, ("hardlink", "hl", str(victim)), ("file", "hl", b"overwritten\n")],
        "tar device": [ok, ("chr", "null", b"")],
        "tar fifo": [ok, ("fifo", "pipe", b"")],
        "tar file then a member inside it": [ok, ("file", "a", b"x"), ("file", "a/b", b"y")],
        "tar the same file twice": [ok, ("file", "ok.txt", b"again\n")],
    }
    zips = {
        "zip ../ traversal": [ok, ("file", f"{UP}/victim.txt", b"overwritten\n")],
        "zip absolute path": [ok, ("file", str(abs_new), b"new\n")],
        "zip symlink then a member through it": [
            ok, ("symlink", "link", str(outside)), ("file", "link/new.txt", b"new\n")],
    }
    needles = {"traversal": "leads outside", "inside a name": "leads outside",
               "absolute": "is an absolute path", "symlink": "is a symbolic link",
               "hard link": "is a hard link", "device": "is a device", "fifo": "is a FIFO",
               "inside it": "is a file, but other members are inside it",
               "twice": "appears twice"}

    def needle(case: str) -> str:
        return next(v for k, v in needles.items() if k in case)

    cases = {c: ("x.tar.gz", tar_of(e), needle(c)) for c, e in tar.items()}
    cases["tar symlink then a member through it (.tar)"] = (
        "x.tar", tar_of(tar["tar symlink then a member through it"], "w"), "is a symbolic link")
    cases.update({c: ("x.zip", zip_of(e), needle(c)) for c, e in zips.items()})
    return cases


CASES = sorted(hostile(Path("/placeholder")))


def spec_for(server: Server, file: str, data: bytes, path: str = "") -> str:
    path = path or f"h/{hashlib.sha256(data).hexdigest()[:8]}/{file}"
    server.files[path] = data
    return f"url:{server.url(path)},sha256={sha(data)},unpack=true"


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_archive_is_refused_whole(case, server, cache, outside, tmp_path):
    file, data, needle = hostile(outside)[case]
    spec = spec_for(server, file, data)
    before = tree(tmp_path, skip="cache")
    with pytest.raises(DataError) as e:
        fetch(spec)
    line = str(e.value)
    assert "\n" not in line and needle in line and "nothing was unpacked" in line, line
    assert "refused archive " + file in line
    assert tree(tmp_path, skip="cache") == before  # nothing outside written or changed
    assert (outside / "victim.txt").read_bytes() == VICTIM
    assert not cache.exists(), list(cache.rglob("*"))  # no archive, no folder left behind
    assert len(server.requests) == 1


@pytest.mark.parametrize("case", ["tar ../ traversal", "tar hard link then a member of its name",
                                  "zip symlink then a member through it"])
@pytest.mark.parametrize("command", ["run", "fetch"])
def test_the_command_line_refuses_it_in_one_line(case, command, server, cache, outside,
                                                 tmp_path):
    file, data, needle = hostile(outside)[case]
    spec = spec_for(server, file, data)
    before = tree(tmp_path, skip="cache")
    args = [command, spec] + (["-c", "zstd", "--results", str(tmp_path / "cache" / "runs"),
                               "-j", "1"] if command == "run" else [])
    p = subprocess.run([sys.executable, "-m", "mdlbench.cli", *args], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("mdlbench: error:")]
    assert len(errors) == 1 and needle in errors[0], p.stderr
    assert tree(tmp_path, skip="cache") == before
    assert not cache.exists() or not any(cache.rglob("*.json")), list(cache.rglob("*"))
    assert not (cache / "url").exists()


def test_a_good_archive_unpacks_and_runs(server, cache, tmp_path):
    entries: list[Entry] = [("dir", ".", b""), ("dir", "data", b"")] + [
        ("file", n, b) for n, b in GOOD.items()]
    tgz, zp = tar_of(entries), zip_of([e for e in entries if e[1] != "."])
    runs = tmp_path / "runs"
    records = mdlbench.run([spec_for(server, "good.tar.gz", tgz)], ["zstd"], results_dir=runs,
                           progress=False)
    [rec] = records
    total = GOOD["data/a.txt"] + GOOD["data/sub/b.bin"]
    assert rec.verified and rec.dataset.size == len(total) and rec.dataset.sha256 == sha(total)
    [folder] = (p for p in cache.rglob("good.tar.gz.*") if p.is_dir())
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(
        GOOD)
    ds = load(spec_for(server, "good.zip", zp))
    assert ds.data == total and [n for n, _ in ds.parts] == sorted(GOOD)
    assert not list(cache.rglob(".unpacking-*"))


def test_a_bomb_declaring_9_gib_is_refused_from_its_header(server, cache, tmp_path):
    """A 40 MB tar whose header declares 9 GiB of zeros (the rest never comes): refused at the
    header, at the real limit, with only the download itself written."""
    info = tarfile.TarInfo("zeros")
    info.size = 9 << 30
    gz = gzip.compress(info.tobuf(tarfile.GNU_FORMAT) + bytes(40 << 20), compresslevel=1)
    spec = spec_for(server, "bomb.tar.gz", gz)
    written = _written()
    with pytest.raises(LimitError, match=r"refused archive bomb.tar.gz: the sizes its headers "
                       r"declare pass mdlbench's limit of 4.0 GiB .* at member 'zeros'"):
        fetch(spec)
    if written is not None:
        assert _written() - written < 200 << 20  # type: ignore[operator]
    assert not cache.exists()


def zeros_tar_gz(size: int) -> bytes:
    """A complete, valid .tar.gz of one member `zeros` holding `size` zero bytes (GNU header,
    end blocks, record padding, gzip CRC and length), deflated at level 1 as `gzip -1` would
    (about 230:1 on zeros) in seconds: a run of zeros deflated from a fresh start, ended by a
    full flush, is byte-aligned and refers to nothing before it, so one such piece repeated is
    the stream of the whole run."""
    info = tarfile.TarInfo("zeros")
    info.size = size
    head = info.tobuf(tarfile.GNU_FORMAT)
    whole = -(-(len(head) + size + 2 * tarfile.BLOCKSIZE) // tarfile.RECORDSIZE) * tarfile.RECORDSIZE

    def deflated(data: bytes) -> bytes:
        c = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
        return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)

    piece = bytes(64 << 20)
    runs, rest = divmod(whole - len(head), len(piece))
    crc = zlib.crc32(head)
    for _ in range(runs):
        crc = zlib.crc32(piece, crc)
    crc = zlib.crc32(piece[:rest], crc)
    end = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)
    body = deflated(head) + deflated(piece) * runs + deflated(piece[:rest]) + end
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + body
            + crc.to_bytes(4, "little") + (whole & 0xFFFFFFFF).to_bytes(4, "little"))


def test_a_40_mb_tar_gz_of_9_gib_of_zeros_is_refused_in_seconds(server, cache, tmp_path):
    """The issue's bomb, real and whole: a 40 MB .tar.gz that holds 9 GiB of zeros, fetched by
    the command line from a local server. One error line, the limit's exit status, in seconds, with
    well under 200 MB written by the process (its own count, /proc/self/io, taken at exit), and
    nothing left in the cache."""
    gz = zeros_tar_gz(9 << 30)
    assert 38 << 20 < len(gz) < 46 << 20, len(gz)
    with gzip.open(io.BytesIO(gz)) as f:  # the header the archive starts with: 9 GiB
        assert tarfile.TarInfo.frombuf(f.read(512), "utf-8", "strict").size == 9 << 30
    spec = spec_for(server, "bomb.tar.gz", gz)
    count = tmp_path / "written"
    at_exit = ("import atexit, runpy, sys\n"
               "def count():\n"
               "    io = open('/proc/self/io').read().split()\n"
               f"    open({str(count)!r}, 'w').write(io[io.index('wchar:') + 1])\n"
               "atexit.register(count)\n"
               "sys.argv = ['mdlbench', *sys.argv[1:]]\n"
               "runpy.run_module('mdlbench.cli', run_name='__main__')\n")
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-c", at_exit, "fetch", spec], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    took = time.monotonic() - t0
    assert p.returncode == LimitError.exit_code, p.stderr
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("mdlbench: ")]  # not the
    assert len(lines) == 1 and lines[0].startswith(  # download's progress
        "mdlbench: error: refused archive bomb.tar.gz: the sizes its headers declare pass "), lines
    assert "at member 'zeros' (9,663,676,416 B)" in lines[0], lines[0]
    assert took < 30, f"{took:.1f} s"
    assert int(count.read_text()) < 100 << 20, count.read_text()
    assert not cache.exists() or not [f for f in cache.rglob("*") if f.is_file()], list(
        cache.rglob("*"))


def _written() -> int | None:
    """Bytes this process has passed to write() so far (Linux), None elsewhere."""
    try:
        io_stats = Path("/proc/self/io").read_text()
    except OSError:
        return None
    return int(next(ln.split()[1] for ln in io_stats.splitlines() if ln.startswith("wchar:")))


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_a_bomb_is_refused_before_it_is_written(kind, server, cache, monkeypatch):
    """The same proportions, complete and honest headers: nine members of 1 MiB of zeros
    against a limit of 4 MiB (a 9 GiB bomb against 4 GiB, scaled down)."""
    monkeypatch.setattr(limits, "MAX_UNPACK_BYTES", 4 << 20)
    entries: list[Entry] = [("file", f"z{i}", bytes(1 << 20)) for i in range(9)]
    data = tar_of(entries) if kind == "tar" else zip_of(entries)
    spec = spec_for(server, f"bomb.{'tar.gz' if kind == 'tar' else 'zip'}", data)
    assert len(data) < 100 << 10
    with pytest.raises(LimitError, match=r"declare pass mdlbench's limit of 4.0 MiB .* at member "
                       r"'z4' \(1,048,576 B\); refused before writing"):
        fetch(spec)
    assert not cache.exists()


def test_an_archive_larger_than_the_free_disk_is_refused(server, cache, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UNPACK_BYTES", 1 << 62)
    info = tarfile.TarInfo("huge")
    info.size = shutil.disk_usage(tmp_path).free + (1 << 30)
    spec = spec_for(server, "huge.tar", info.tobuf(tarfile.GNU_FORMAT) + bytes(10240))
    with pytest.raises(LimitError, match=r"declare pass the .* free on the cache's disk at member "
                       "'huge'"):
        fetch(spec)
    assert not cache.exists()


def test_writing_stops_at_the_limit_whatever_a_header_claims():
    out = io.BytesIO()
    with pytest.raises(LimitError):
        copy_capped(io.BytesIO(bytes(3 << 20)), out, 1 << 20)
    assert len(out.getvalue()) <= 1 << 20
    out = io.BytesIO()
    assert copy_capped(io.BytesIO(b"x" * 5000), out, 5000) == 5000 and out.getvalue() == b"x" * 5000


def test_a_damaged_archive_or_a_failed_download_leaves_nothing(server, cache):
    good = tar_of([("file", "a.txt", b"abc" * 1000)])
    with pytest.raises(DataError, match="cannot unpack bad.tar.gz"):
        fetch(spec_for(server, "bad.tar.gz", good[: len(good) // 2]))
    assert not cache.exists()
    with pytest.raises(DataError, match="refused archive empty.tar: it holds no files"):
        fetch(spec_for(server, "empty.tar", tar_of([("dir", "data", b"")], "w")))
    assert not cache.exists()
    with pytest.raises(DataError, match="HTTP 404"):
        fetch(f"url:{server.url('missing.zip')},sha256={'0' * 64},unpack=true")
    assert not cache.exists()


# -- credentials ----------------------------------------------------------------------------------

PASSWORD, TOKEN, SIGNATURE = "pa55-w0rd-xyz", "t0ken-abc-123", "s1g-def-456"
SECRETS = ("alice", PASSWORD, TOKEN, SIGNATURE)


def test_redact():
    assert redact("https://u:p@h:8080/a/b.txt?x=1&token=T&api-key=K#frag") == (
        "https://h:8080/a/b.txt?x=1&token=REDACTED&api-key=REDACTED#frag")
    assert redact("https://h/f?X-Amz-Credential=AK%2F1&X-Amz-Signature=S&sig=3&v=2") == (
        "https://h/f?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&sig=REDACTED&v=2")
    assert redact("http://a@b:c@h/p;jsessionid=J?q=1") == "http://h/p;jsessionid=REDACTED"
    assert redact("https://h/f?monkey=1&turnkey=2") == "https://h/f?monkey=1&turnkey=2"
    assert redact("https://h/plain.txt?n=1") == "https://h/plain.txt?n=1"


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdlbench.cli", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "300"})


def test_credentials_reach_no_record_output_or_error(server, cache, tmp_path):
    data = GOOD["data/a.txt"]
    server.files["d/data.txt"] = data
    query = f"v=1&token={TOKEN}&X-Amz-Signature={SIGNATURE}"
    url = f"http://alice:{PASSWORD}@127.0.0.1:{server.port}/d/data.txt?{query}"
    shown = f"http://127.0.0.1:{server.port}/d/data.txt?v=1&token=REDACTED&X-Amz-Signature=REDACTED"
    runs = tmp_path / "runs"
    outputs: list[str] = []

    def step(*args: str, code: int = 0) -> str:
        p = cli(tmp_path, *args)
        outputs.extend([p.stdout, p.stderr])
        assert p.returncode == code, p.stderr
        return p.stdout + p.stderr

    assert sha(data) in step("fetch", f"url:{url}")
    spec = f"url:{url},sha256={sha(data)}"
    step("run", spec, "-c", "zstd", "--results", str(runs), "-j", "1")
    step("run", spec, "-c", "zstd", "--results", str(runs), "-j", "1", "--force",
         "--format", "json")
    for fmt in ("table", "md", "csv", "html"):
        step("compare", str(runs), "--format", fmt, "--view", "cells")
    assert "has no sha256" in step("run", f"url:{url}", "-c", "zstd", code=2)
    assert "HTTP 404" in step("fetch", f"url:{url.replace('data.txt', 'gone.txt')},"
                              f"sha256={'0' * 64}", code=2)
    assert "given twice" in step("fetch", f"{spec},sha256={sha(data)}", code=2)
    assert "does not match its sha256" in step("fetch", f"url:{url.replace('d/', 'd/./')},"
                                               f"sha256={'1' * 64}", code=2)
    stored = [p.read_text() for p in runs.rglob("*") if p.is_file()]
    assert stored and all(json.loads(s)["dataset"]["name"] == f"url:{shown},sha256={sha(data)}"
                          for s in stored if s.startswith("{"))
    for text in outputs + stored:
        assert not any(s in text for s in SECRETS), text
    # the credentials were used for the download itself
    auth = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert all(h.get("Authorization") == auth and TOKEN in path for path, h in server.requests)
    ds = load(spec)
    assert ds.name == f"url:{shown},sha256={sha(data)}" and shown in ds.description
    assert ds.source == shown
    asked = len(server.requests)  # a renewed token finds the checked file in the cache
    assert load(spec.replace(TOKEN, "renewed")).name == ds.name and len(server.requests) == asked


def test_credentials_reach_no_error_raised_in_python(server, cache):
    url = f"http://alice:{PASSWORD}@127.0.0.1:{server.port}/gone.txt?token={TOKEN}"
    errors: list[str] = []
    for spec in (f"url:{url}", f"url:{url},sha256={'0' * 64}",
                 f"url:{url},head=1,head=2", f"url:{url.replace('http', 'ftp')},sha256={'0' * 64}"):
        with pytest.raises(MdlbenchError) as e:
            load(spec)
        errors.append(str(e.value))
    assert not any(s in e for e in errors for s in SECRETS), errors
    assert not cache.exists()
