"""Corpora downloaded on first use and files by URL: fetched from an HTTP server this test starts,
checked against their sha256, unpacked, reused, and run by name; and what happens when the
network is missing or the download is wrong."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import shutil
import socket
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_files import Server, serve

from mdlbench import run
from mdlbench.cli import main
from mdlbench.datasets import DATASETS, fetch, load, loader, shipped
from mdlbench.datasets import url as urlmod
from mdlbench.datasets.corpora import Corpus
from mdlbench.datasets.download import cache_root
from mdlbench.errors import DataError, UsageError

REPO_DATASETS = Path(__file__).resolve().parents[1] / "datasets"
FILES = {"alpha.txt": b"the quick brown fox jumps over the lazy dog\n" * 300,
         "beta.bin": random.Random(7).randbytes(5000)}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_gz(files: dict[str, bytes], folder: str = "") -> bytes:
    """A .tar.gz of `files` (under `folder`/, as some upstream archives have it)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}" if folder else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


ARCHIVE = tar_gz(FILES, "fixture")


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as state:
        yield state


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    """Downloads go to a fresh folder, never the user's cache; no proxy for the local server."""
    root = tmp_path / "cache"
    monkeypatch.setenv("MDLBENCH_DATA", str(root))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return root


class Fixture(Corpus):
    name = "fixture"
    folder = "fixture"
    summary = "two small files, served by the test"


def install_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str,
                    archive_sha: str | None = sha(ARCHIVE), file: str = "fixture.tar.gz") -> None:
    """A datasets/ folder holding the real ones and a `fixture` corpus whose archive is `url`."""
    root = tmp_path / "datasets"
    root.mkdir()
    for d in REPO_DATASETS.iterdir():
        (root / d.name).symlink_to(d)
    manifest = {
        "name": "fixture", "description": "test corpus", "source": url, "licence": "CC0",
        "download": {"url": url, "file": file, "size": len(ARCHIVE), "sha256": archive_sha,
                     "checksum_source": "made by the test"},
        "files": [{"file": n, "size": len(b), "sha256": sha(b)} for n, b in FILES.items()],
    }
    (root / "fixture").mkdir()
    (root / "fixture" / "MANIFEST.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(shipped, "datasets_dir", lambda: root)
    monkeypatch.setitem(DATASETS, "fixture", Fixture)


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str, str]:
    """`mdlbench ARGS` in this process (so the fixture corpus is registered): exit code, out, err."""
    monkeypatch.setattr(sys, "argv", ["mdlbench", *args])
    code = 0
    try:
        main()
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def error_line(code: int, err: str) -> str:
    """The one error line of a failed command (a progress bar may precede it)."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("mdlbench: error:")]
    assert len(lines) == 1, err
    return lines[0]


def listing(monkeypatch, capsys, name: str) -> dict:
    code, out, _ = cli(monkeypatch, capsys, "list", "--json")
    assert code == 0
    return next(d for d in json.loads(out)["datasets"] if d["name"] == name)


def test_fixture_corpus_is_fetched_checked_and_run_by_name(server, tmp_path, monkeypatch,
                                                           capsys, cache):
    server.files["c/fixture.tar.gz"] = ARCHIVE
    install_fixture(tmp_path, monkeypatch, server.url("c/fixture.tar.gz"))
    assert listing(monkeypatch, capsys, "fixture")["present"] == "no"
    runs = tmp_path / "runs"
    code, out, err = cli(monkeypatch, capsys, "run", "fixture", "-c", "zstd", "--results",
                         str(runs), "-j", "1")
    assert code == 0, err
    assert "zstd" in out
    assert "fixture.tar.gz" not in err  # the download bar is for a terminal only
    [record] = [json.loads(p.read_text()) for p in runs.rglob("*.json")]
    total = b"".join(FILES.values())
    assert record["verified"] is True and record["dataset"]["name"] == "fixture"
    assert record["dataset"]["size"] == len(total) and record["dataset"]["sha256"] == sha(total)
    assert (cache / "fixture" / "fixture.tar.gz").read_bytes() == ARCHIVE
    assert server.hits == ["c/fixture.tar.gz"]
    assert listing(monkeypatch, capsys, "fixture")["present"] == "yes"
    # reused: checked again, not downloaded again
    code, _, err = cli(monkeypatch, capsys, "run", "fixture:head=1000", "-c", "zstd",
                       "--results", str(runs), "-j", "1", "-q")
    assert code == 0, err
    assert server.hits == ["c/fixture.tar.gz"]
    assert load("fixture:head=1000").data == total[:1000]


class _Terminal(io.StringIO):
    """Standard error as a terminal: where the download bar is drawn."""

    def isatty(self) -> bool:
        return True


def test_download_bar_shows_on_a_terminal_but_not_in_a_quiet_run(server, tmp_path, monkeypatch,
                                                                 cache):
    server.files["c/fixture.tar.gz"] = ARCHIVE
    install_fixture(tmp_path, monkeypatch, server.url("c/fixture.tar.gz"))
    archive = cache / "fixture" / "fixture.tar.gz"
    for progress in (False, True):
        if archive.exists():
            archive.unlink()
        err = _Terminal()
        with monkeypatch.context() as m:
            m.setattr(sys, "stderr", err)
            run(["fixture"], ["zstd"], results_dir=None, progress=progress, jobs=1)
        assert ("fixture.tar.gz" in err.getvalue()) is progress, err.getvalue()
    assert server.hits == ["c/fixture.tar.gz"] * 2


def test_fetch_command(server, tmp_path, monkeypatch, capsys, cache):
    server.files["fixture.tar.gz"] = ARCHIVE
    install_fixture(tmp_path, monkeypatch, server.url("fixture.tar.gz"))
    code, out, err = cli(monkeypatch, capsys, "fetch", "fixture", "canterbury", "iid")
    assert code == 0, err
    lines = out.strip().splitlines()
    size = sum(len(b) for b in FILES.values())
    assert lines[0] == (f"fixture: 2 file(s), {size:,} B, sha256 checked, "
                        f"in {cache / 'fixture'}")
    assert "shipped with mdlbench" in lines[1] and "generated" in lines[2]
    code, _, err = cli(monkeypatch, capsys, "fetch", "no-such-corpus")
    assert "unknown dataset" in error_line(code, err)


@pytest.mark.parametrize("fault", ["wrong bytes", "truncated"])
def test_a_bad_download_is_refused_and_not_kept(fault, server, tmp_path, monkeypatch, capsys,
                                                cache):
    path = "fixture.tar.gz"
    server.files[path] = ARCHIVE if fault == "truncated" else tar_gz({"alpha.txt": b"other"})
    if fault == "truncated":
        server.truncate.add(path)
    install_fixture(tmp_path, monkeypatch, server.url(path))
    code, out, err = cli(monkeypatch, capsys, "run", "fixture", "-c", "zstd", "--results",
                         str(tmp_path / "runs"), "-j", "1")
    line = error_line(code, err)
    assert ("does not match its sha256" if fault == "wrong bytes" else "connection broke") in line
    kept = [p for p in cache.rglob("*") if p.is_file()]
    assert kept == [], kept
    assert not (tmp_path / "runs").exists()


def test_no_network_says_which_file_to_put_where(tmp_path, monkeypatch, capsys, cache):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/fixture.tar.gz"
    install_fixture(tmp_path, monkeypatch, url)
    code, _, err = cli(monkeypatch, capsys, "run", "fixture", "-c", "zstd", "--results",
                       str(tmp_path / "runs"))
    line = error_line(code, err)
    target = cache / "fixture" / "fixture.tar.gz"
    assert f"cannot download {url}: no connection" in line
    assert f"put fixture.tar.gz ({len(ARCHIVE):,} B, sha256 {sha(ARCHIVE)}) at {target}" in line
    assert not cache.exists()  # the failed download left no empty folders
    target.parent.mkdir(parents=True)
    target.write_bytes(ARCHIVE[:-1])  # the wrong file there: still refused, and said so
    code, _, err = cli(monkeypatch, capsys, "fetch", "fixture")
    assert "(the file there now does not match)" in error_line(code, err)
    target.write_bytes(ARCHIVE)  # done as told: it works without a network
    assert load("fixture").data == b"".join(FILES.values())


def test_damaged_cache_files_are_unpacked_again(server, tmp_path, monkeypatch, cache):
    server.files["fixture.tar.gz"] = ARCHIVE
    install_fixture(tmp_path, monkeypatch, server.url("fixture.tar.gz"))
    good = load("fixture").data
    [alpha] = cache.rglob("alpha.txt")
    alpha.write_bytes(alpha.read_bytes().upper())  # same size, other bytes
    assert load("fixture").data == good
    [beta] = cache.rglob("beta.bin")
    beta.unlink()
    assert load("fixture").data == good
    assert server.hits == ["fixture.tar.gz"]


def test_a_corpus_without_a_published_checksum_needs_the_users(server, tmp_path, monkeypatch,
                                                               capsys):
    server.files["fixture.tar.gz"] = ARCHIVE
    install_fixture(tmp_path, monkeypatch, server.url("fixture.tar.gz"), archive_sha=None)
    with pytest.raises(DataError, match="no trustworthy sha256.*fixture:sha256=HEX"):
        load("fixture")
    assert server.hits == []
    assert listing(monkeypatch, capsys, "fixture")["present"] == "no"
    ds = load(f"fixture:sha256={sha(ARCHIVE).upper()}")
    assert ds.data == b"".join(FILES.values()) and ds.name == f"fixture:sha256={sha(ARCHIVE)}"
    with pytest.raises(DataError, match="does not match its sha256"):
        load(f"fixture:sha256={'0' * 64}")
    with pytest.raises(UsageError, match="64 hex digits"):
        load("fixture:sha256=abc")


def test_url_specs_are_parsed_from_the_right():
    assert urlmod.parse("url:http://h:8080/a,b.txt?x=1&y=2,sha256=ab,head=10") == {
        "url": "http://h:8080/a,b.txt?x=1&y=2", "sha256": "ab", "head": "10"}
    assert urlmod.parse("url:https://h/f?unpack=1") == {"url": "https://h/f?unpack=1"}
    h = "ab" * 32
    ld = loader(f"url:https://h/q?a=1,b=2,unpack=false,sha256={h.upper()}")
    assert ld is not None and ld.config["url"] == "https://h/q?a=1,b=2"
    assert ld.spec == f"url:https://h/q?a=1,b=2,sha256={h}"  # canonical: defaults left out
    assert urlmod.parse(ld.spec)["url"] == "https://h/q?a=1,b=2"
    with pytest.raises(UsageError, match="given twice"):
        urlmod.parse(f"url:https://h/f,sha256={h},sha256={h}")
    with pytest.raises(UsageError, match="64 hex digits"):
        loader("url:https://h/f,sha256=xyz")
    with pytest.raises(UsageError, match="not an http"):
        load(f"url:file:///etc/passwd,sha256={h}")
    with pytest.raises(UsageError, match="unpack=true needs"):
        load(f"url:https://h/f.txt,sha256={h},unpack=true")


def test_url_dataset_needs_its_sha256(server, tmp_path, monkeypatch, capsys, cache):
    data = FILES["alpha.txt"]
    server.files["d,1/text.txt?v=2&w=3"] = data
    url = server.url("d,1/text.txt?v=2&w=3")
    code, _, err = cli(monkeypatch, capsys, "run", f"url:{url}", "-c", "zstd")
    assert "has no sha256, so it is not used" in error_line(code, err)
    assert server.hits == []  # refused before any download
    code, out, err = cli(monkeypatch, capsys, "fetch", f"url:{url}")
    assert code == 0, err
    assert f"its sha256 is {sha(data)}: check that against a source you trust" in out
    runs = tmp_path / "runs"
    spec = f"url:{url},sha256={sha(data)}"
    code, _, err = cli(monkeypatch, capsys, "run", spec, "-c", "zstd", "--results", str(runs),
                       "-j", "1", "-q")
    assert code == 0, err
    [record] = [json.loads(p.read_text()) for p in runs.rglob("*.json")]
    assert record["dataset"]["name"] == spec and record["dataset"]["size"] == len(data)
    assert record["verified"] is True
    assert len(server.hits) == 1  # the fetched file was reused
    assert re.fullmatch(r"[0-9a-f]{16}", next((cache / "url").iterdir()).name)


def test_url_archive_is_unpacked(server, cache):
    server.files["files.zip"] = zip_of(FILES)
    ds = load(f"url:{server.url('files.zip')},sha256={sha(server.files['files.zip'])},unpack=true")
    assert [n for n, _ in ds.parts] == sorted(FILES) and ds.data == b"".join(FILES.values())
    with pytest.raises(DataError, match="404"):
        load(f"url:{server.url('missing.zip')},sha256={'0' * 64}")


PUBLISHED_TOTALS = {  # bytes, from each corpus's own page
    "enwik8": 10**8, "enwik9": 10**9, "text8": 10**8, "silesia": 211_938_580,
    "calgary": 3_141_622, "calgary:set=18": 3_251_493, "canterbury-large": 11_159_482,
    "canterbury-artificial": 300_001,
}


@pytest.mark.parametrize("spec", sorted(PUBLISHED_TOTALS))
def test_corpus_manifests(spec):
    ld = loader(spec)
    assert isinstance(ld, Corpus)
    m = ld.manifest()
    d = m["download"]
    assert d["url"].startswith(("http://", "https://")) and d["url"].endswith(d["file"])
    assert re.fullmatch(r"[0-9a-f]{64}", d["sha256"]) and d["checksum_source"]
    assert m["licence"] and m["citation"] and m["source"]
    entries = ld.entries(m)
    assert len({e["file"] for e in entries}) == len(entries)
    assert sum(e["size"] for e in entries) == PUBLISHED_TOTALS[spec]
    assert all(re.fullmatch(r"[0-9a-f]{64}", e.get("sha256", "0" * 64)) for e in entries)
    info = ld.listing()  # no download: the cache is empty
    assert info["present"] == "no" and info["size"] == PUBLISHED_TOTALS[spec]


def test_large_canterbury_bible_is_the_shipped_one():
    large = {e["file"]: e for e in loader("canterbury-large").manifest()["files"]}
    bible = shipped.read_manifest("bible")["files"][0]
    assert large["bible.txt"]["sha256"] == bible["sha256"]
    assert large["bible.txt"]["size"] == bible["size"]


def test_shipped_manifest_is_checked(tmp_path, monkeypatch):
    root = tmp_path / "datasets"
    shutil.copytree(REPO_DATASETS / "bible", root / "bible")
    monkeypatch.setattr(shipped, "datasets_dir", lambda: root)
    assert load("bible").size == 4_047_392
    head = load("bible:head=1000")
    assert head.name == "bible:head=1000" and head.data == load("bible").data[:1000]
    p = root / "bible" / "bible.txt"
    p.write_bytes(p.read_bytes()[:-1] + b"!")
    with pytest.raises(DataError, match="sha256"):
        load("bible")


def test_cache_is_the_user_cache_unless_mdlbench_data(tmp_path, monkeypatch):
    assert cache_root() == tmp_path / "cache"
    monkeypatch.delenv("MDLBENCH_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "mdlbench"


def test_fetch_of_a_generated_dataset_downloads_nothing(cache):
    assert fetch("markov:n=100")["note"] == "generated when used, nothing to download"
    assert not cache.exists()


def test_fetch_of_shipped_data_checks_what_was_asked(cache, mdl):
    """Shipped data is named as shipped; a file it does not hold is the usage error `run`
    gives, not "generated when used"."""
    assert fetch("bible")["note"] == "shipped with mdlbench, nothing to download"
    p = mdl("fetch", "canterbury:file=nope")
    assert p.code == 2 and "no file 'nope'" in p.err and "Traceback" not in p.err
    assert not cache.exists()


@pytest.mark.parametrize("last", ["%2e%2e", ".", "..", "%2E"])
def test_a_url_without_a_file_name_of_its_own_is_saved_as_download(last):
    """The last part of a URL's path names the saved file: `..` or `.` would name the folder
    itself or its parent (the download was left beside the cache's folders, run after run)."""
    from mdlbench.datasets.url import Url

    remote = Url(url=f"https://example.org/d/{last}", sha256="0" * 64).remote()
    assert remote.file == "download"
