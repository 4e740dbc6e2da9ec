"""The standard corpora of the field, downloaded on first use: enwik8, enwik9, text8, silesia,
calgary, canterbury-large and canterbury-artificial.

Each has a manifest in datasets/<name>/MANIFEST.json: the upstream archive (URL, size, sha256
and where that checksum was published), the licence and citation, and every file in the archive
(size, and sha256 where one is published). The archive is checked on every use, and so is each
file it holds (size and published sha256); a file damaged in the cache is unpacked again from the
checked archive. A corpus whose manifest has no trustworthy checksum is never used unverified:
it needs the user's own (`NAME:sha256=HEX`).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DataError, MdlbenchError
from ..params import Param
from .base import Dataset, DatasetLoader, register_dataset, take_head
from .download import (
    Remote,
    cache_root,
    check_sha256,
    files_under,
    is_archive,
    retrieve,
    tidy,
    unpack,
    unpacked_dir,
)
from .files import read_file
from .shipped import read_manifest

Entry = dict[str, Any]
"""A file of a corpus as its manifest lists it: file, size and (when published) sha256."""


class Corpus(DatasetLoader):
    """A corpus fetched from its upstream archive into the cache (see download.py)."""

    kind = "download"
    folder: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = (
        Param("head", int, 0, "only the first N bytes (0: all), for slow coders", min=0),
        Param("sha256", str, "", "the archive's sha256, in place of the manifest's (needed "
              "where the manifest has none)"),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.config["sha256"]:
            self.config["sha256"] = check_sha256(self.config["sha256"], f"dataset {self.name}")

    def manifest(self) -> dict[str, Any]:
        m = read_manifest(self.folder)
        if "download" not in m:
            raise DataError(f"manifest of {self.name} is damaged: it says nowhere to download "
                            f"from ('download')")
        return m

    def entries(self, manifest: dict[str, Any]) -> list[Entry]:
        """The files that make up this dataset, in the manifest's order."""
        return list(manifest["files"])

    def remote(self, manifest: dict[str, Any]) -> Remote:
        d = manifest["download"]
        sha = self.config["sha256"] or d.get("sha256")
        if sha is None:
            raise DataError(f"{self.name}: no trustworthy sha256 of {d['file']} is published "
                            f"({d.get('checksum_source', 'see its manifest')}); give one you "
                            f"trust as {self.name}:sha256=HEX")
        return Remote(d["url"], d["file"], sha, d.get("size") if sha == d.get("sha256") else None)

    def load(self) -> Dataset:
        m = self.manifest()
        parts = take_head(self.read(m), self.config["head"])
        return Dataset(name=self.spec, parts=parts, kind="download", description=m["description"],
                       source=m["source"], licence=m["licence"],
                       meta={"citation": m.get("citation", ""), "url": m["download"]["url"]})

    def fetch(self) -> dict[str, Any]:
        """Download, check and unpack now (`mdlbench fetch`); what and where."""
        m = self.manifest()
        parts = self.read(m)
        return {"name": self.spec, "path": str(cache_root() / self.folder), "files": len(parts),
                "size": sum(len(b) for _, b in parts), "sha256": True}

    def read(self, manifest: dict[str, Any]) -> list[tuple[str, bytes]]:
        """Every file of the corpus, checked; one fresh unpack if the cached files are damaged."""
        remote = self.remote(manifest)
        with tidy(cache_root() / self.folder):
            archive = retrieve(remote, cache_root() / self.folder)
            entries = self.entries(manifest)
            if not is_archive(archive.name):
                return checked(archive.parent, entries)
            assert remote.sha256 is not None  # remote() refuses an unverified archive
            root = unpack(archive, remote.sha256)
        try:
            return checked(root, entries)
        except DataError:
            shutil.rmtree(root, ignore_errors=True)
            return checked(unpack(archive, remote.sha256), entries)

    def present(self, manifest: dict[str, Any]) -> bool:
        """Downloaded and unpacked (sizes only: `list` must stay fast; loading checks hashes)."""
        d = manifest["download"]
        sha = self.config["sha256"] or d.get("sha256")
        archive = cache_root() / self.folder / d["file"]
        if sha is None or not archive.is_file():
            return False
        root = unpacked_dir(archive, sha) if is_archive(archive.name) else archive.parent
        found = by_name(root) if root.is_dir() else {}
        return all(e["file"] in found and found[e["file"]].stat().st_size == e["size"]
                   for e in self.entries(manifest))

    def listing(self) -> dict[str, Any]:
        try:
            m = self.manifest()
            entries = self.entries(m)
        except MdlbenchError as e:
            return self.missing(e)
        return {"name": self.name, "kind": self.kind, "summary": self.summary,
                "params": ", ".join(p.describe() for p in self.params),
                "size": sum(e["size"] for e in entries), "files": len(entries),
                "source": m["source"], "licence": m["licence"], "download": m["download"]["url"],
                "archive_sha256": m["download"].get("sha256"),
                "present": "yes" if self.present(m) else "no"}


def by_name(root: Path) -> dict[str, Path]:
    """The files under `root` by base name (archives differ in whether they hold a folder)."""
    found: dict[str, Path] = {}
    for p in files_under(root):
        if p.name in found:
            raise DataError(f"{root} holds two files named {p.name!r}")
        found[p.name] = p
    return found


def checked(root: Path, entries: list[Entry]) -> list[tuple[str, bytes]]:
    """The listed files under `root`, each matching its manifest size and sha256."""
    found = by_name(root)
    parts = []
    for e in entries:
        path = found.get(e["file"])
        if path is None:
            raise DataError(f"{e['file']} is missing from {root}")
        data = read_file(path)
        if len(data) != e["size"]:
            raise DataError(f"{path} is {len(data):,} B; its manifest says {e['size']:,} B")
        if e.get("sha256") and hashlib.sha256(data).hexdigest() != e["sha256"]:
            raise DataError(f"{path} does not match the sha256 in its manifest")
        parts.append((e["file"], data))
    return parts


@register_dataset
class Enwik8(Corpus):
    name = "enwik8"
    folder = "enwik8"
    summary = "First 10^8 bytes of English Wikipedia (XML, 2006): the Hutter Prize's data"


@register_dataset
class Enwik9(Corpus):
    name = "enwik9"
    folder = "enwik9"
    summary = "First 10^9 bytes of English Wikipedia (XML, 2006): the Large Text Benchmark's data"


@register_dataset
class Text8(Corpus):
    name = "text8"
    folder = "text8"
    summary = "enwik9 cleaned to lower-case letters and spaces, first 10^8 bytes (Mahoney)"


@register_dataset
class Silesia(Corpus):
    name = "silesia"
    folder = "silesia"
    summary = "The Silesia corpus, 12 files of today's data types (212 MB)"


@register_dataset
class Calgary(Corpus):
    name = "calgary"
    folder = "calgary"
    summary = "The Calgary corpus (Bell, Cleary & Witten), 14 files, or 18 with paper3-paper6"
    params = Corpus.params + (
        Param("set", int, 14, "14: the corpus as published; 18: with paper3..paper6, in older "
              "papers' tables", choices=(14, 18)),
    )

    def entries(self, manifest: dict[str, Any]) -> list[Entry]:
        sets = manifest.get("sets")
        chosen = sets.get(str(self.config["set"])) if isinstance(sets, dict) else None
        if not isinstance(chosen, list):
            raise DataError(f"manifest of calgary is damaged: no file set {self.config['set']}")
        names = set(chosen)
        return [e for e in manifest["files"] if e["file"] in names]


@register_dataset
class CanterburyLarge(Corpus):
    name = "canterbury-large"
    folder = "canterbury-large"
    summary = "The Large Canterbury corpus: E.coli, bible.txt, world192.txt (11 MB)"


@register_dataset
class CanterburyArtificial(Corpus):
    name = "canterbury-artificial"
    folder = "canterbury-artificial"
    summary = "The Canterbury artificial corpus: worst cases (a.txt, aaa.txt, alphabet, random)"
