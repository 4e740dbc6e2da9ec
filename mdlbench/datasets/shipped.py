"""Real corpora shipped with mdlbench, each with a MANIFEST.json (source, licence, size and
sha256 of every file), checked on every load.

Their home is the repository's top-level datasets/ folder, which also holds the manifests of the
corpora that are downloaded on first use (corpora.py); the wheel carries that folder as
mdlbench/_data (see setup.py), so an installed mdlbench needs neither the checkout nor a network
for them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from .. import fileio, limits
from ..errors import DataError, UsageError
from ..params import Param
from .base import Dataset, DatasetLoader, register_dataset, take_head
from .files import read_file

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def datasets_dir() -> Path:
    """mdlbench/_data in an installed wheel, else datasets/ beside the package (a checkout or an
    editable install)."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_data"
    return packaged if packaged.is_dir() else package.parent / "datasets"


def read_manifest(folder: str) -> dict[str, Any]:
    """A dataset's MANIFEST.json, checked against the schema `check_manifest` states."""
    path = datasets_dir() / folder / "MANIFEST.json"
    if not path.exists():
        raise DataError(f"dataset {folder!r} has no manifest: no {path}")
    raw = fileio.read_regular(path, "manifest", limits.JSON_MAX_BYTES)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise DataError(f"cannot read manifest {path}: {e}") from None
    check_manifest(doc, path)
    return doc


def _fail(path: Path, why: str) -> DataError:
    return DataError(f"manifest {path} is damaged: {why}")


def check_manifest(doc: Any, path: Path) -> None:
    """A manifest is an object with text `description`, `source` and `licence`, and a non-empty
    list `files` of {file: a plain relative path, size: bytes, sha256: 64 hex digits (where
    published)}; a downloaded corpus's also has `download` {url, file[, size, sha256]}."""
    if not isinstance(doc, dict):
        raise _fail(path, "not a JSON object")
    for key in ("description", "source", "licence"):
        if not isinstance(doc.get(key), str):
            raise _fail(path, f"no text {key!r}")
    files = doc.get("files")
    if not isinstance(files, list) or not files:
        raise _fail(path, "no list of 'files'")
    for e in files:
        name = e.get("file") if isinstance(e, dict) else None
        if not isinstance(name, str) or not name or name.startswith("/") or ".." in name.split("/"):
            raise _fail(path, f"a file entry {e!r:.80} has no plain relative 'file' name")
        if type(e.get("size")) is not int or e["size"] < 0:
            raise _fail(path, f"{name}: 'size' is not a number of bytes")
        sha = e.get("sha256")
        if sha is not None and not (isinstance(sha, str) and _HEX64.match(sha)):
            raise _fail(path, f"{name}: 'sha256' is not 64 hex digits")
    d = doc.get("download")
    if d is not None and not (isinstance(d, dict) and isinstance(d.get("url"), str)
                              and isinstance(d.get("file"), str)):
        raise _fail(path, "'download' needs a 'url' and a 'file'")


def read_checked(folder: str, entry: dict[str, Any]) -> bytes:
    path = datasets_dir() / folder / entry["file"]
    if not entry.get("sha256"):
        raise DataError(f"manifest of {folder!r} gives no sha256 for {entry['file']}: a shipped "
                        f"file is used only checked")
    data = read_file(path)
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise DataError(f"{path} does not match its manifest's sha256 (damaged or replaced)")
    return data


class Shipped(DatasetLoader):
    folder: str
    files: tuple[str, ...] | None = None  # None: every byte-stream file in the manifest
    kind = "shipped"
    params = (Param("head", int, 0, "only the first N bytes (0: all), for slow coders", min=0),
              Param("file", str, "", "only this file of the corpus (default: all)"))

    def load(self) -> Dataset:
        m = read_manifest(self.folder)
        entries = [e for e in m["files"] if self.files is None or e["file"] in self.files]
        if self.config["file"]:
            names = [e["file"] for e in entries]
            if self.config["file"] not in names:
                raise UsageError(f"dataset {self.name}: no file {self.config['file']!r} "
                                 f"(files: {', '.join(names)})")
            entries = [e for e in entries if e["file"] == self.config["file"]]
        parts = [(e["file"], read_checked(self.folder, e)) for e in entries]
        parts = take_head(parts, self.config["head"])
        return Dataset(name=self.spec, parts=parts, kind="shipped", description=m["description"],
                       source=m["source"], licence=m["licence"])

    def listing(self) -> dict[str, Any]:
        info = self.shipped_listing()
        if info["present"] == "shipped":  # the manifest says what this corpus is
            info["summary"] = info["description"]
        return info


@register_dataset
class Canterbury(Shipped):
    name = "canterbury"
    folder = "canterbury"
    summary = "The Canterbury Corpus, 11 files (2.8 MB)"


@register_dataset
class Bible(Shipped):
    name = "bible"
    folder = "bible"
    files = ("bible.txt",)
    summary = "King James Bible from the Large Canterbury Corpus (4 MB)"
