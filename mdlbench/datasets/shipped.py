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
from pathlib import Path
from typing import Any

from ..errors import DataError, UsageError
from ..params import Param
from .base import Dataset, DatasetLoader, register_dataset, take_head
from .files import read_file


def datasets_dir() -> Path:
    """mdlbench/_data in an installed wheel, else datasets/ beside the package (a checkout or an
    editable install)."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_data"
    return packaged if packaged.is_dir() else package.parent / "datasets"


def read_manifest(folder: str) -> dict[str, Any]:
    path = datasets_dir() / folder / "MANIFEST.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"dataset {folder!r} has no manifest: no {path}") from None
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read manifest {path}: {e}") from None


def read_checked(folder: str, entry: dict[str, Any]) -> bytes:
    path = datasets_dir() / folder / entry["file"]
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
        ds = self.load()
        return {"name": self.name, "kind": self.kind, "summary": ds.description,
                "params": ", ".join(p.describe() for p in self.params),
                "size": ds.size, "files": len(ds.parts), "source": ds.source,
                "licence": ds.licence, "sha256": ds.sha256, "present": "shipped"}


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
