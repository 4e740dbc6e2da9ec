"""Real corpora shipped in the repository's datasets/ folder, each with a MANIFEST.json
(source, licence, size and sha256 of every file), checked on every load."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import DataError, UsageError
from ..params import Param
from .base import Dataset, DatasetLoader, register_dataset
from .files import read_file


def data_root() -> Path:
    """datasets/ beside the package (a source checkout or editable install), or $MDLBENCH_DATA."""
    env = os.environ.get("MDLBENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "datasets"


def read_manifest(folder: str) -> dict[str, Any]:
    path = data_root() / folder / "MANIFEST.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"shipped dataset {folder!r} is missing: no {path}") from None
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read manifest {path}: {e}") from None


def read_checked(folder: str, entry: dict[str, Any]) -> bytes:
    path = data_root() / folder / entry["file"]
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
        head = self.config["head"]
        if head:
            cut, left = [], head
            for name, data in parts:
                if left <= 0:
                    break
                cut.append((name, data[:left]))
                left -= len(data)
            parts = cut
        return Dataset(name=self.spec, parts=parts, kind="shipped", description=m["description"],
                       source=m["source"], licence=m["licence"])

    def listing(self) -> dict[str, Any]:
        ds = self.load()
        return {"name": self.name, "kind": self.kind, "summary": ds.description,
                "params": ", ".join(p.describe() for p in self.params),
                "size": ds.size, "files": len(ds.parts), "source": ds.source,
                "licence": ds.licence, "sha256": ds.sha256}


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
