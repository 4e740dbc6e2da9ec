"""Result records on disk: one JSON file per cell, written atomically (temp file + rename), so a
killed run never leaves a half-written record, and a re-run finds finished cells by key."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from .record import Record

DEFAULT_DIR = Path("results/runs")


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write via a temp file in the same folder and rename: readers see old or new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; a results file is an ordinary file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cell_key(fields: dict[str, Any]) -> str:
    """A stable hash of what determines a cell's result (data, spec, code, seed...)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=,+-]+", "_", text)[:80] or "_"


def record_path(root: Path, label: str, spec: str, key: str) -> Path:
    return Path(root) / _safe(label) / f"{_safe(spec)}--{key}.json"


def save(root: Path, record: Record) -> Path:
    path = record_path(root, record.dataset.label, record.compressor.spec, record.key)
    atomic_write(path, json.dumps(record.to_dict(), indent=2) + "\n")
    return path


def _read(f: Path) -> Record:
    try:
        doc = json.loads(f.read_text())
    except (OSError, ValueError) as e:
        raise ResultsError(f"corrupt results file {f}: {e}") from None
    try:
        return Record.from_dict(doc, str(f))
    except (AttributeError, KeyError, TypeError, ValueError):
        raise ResultsError(f"corrupt results file {f}: not an mdlbench record") from None


def find(root: Path, label: str, spec: str, key: str) -> Record | None:
    """The finished record stored under this cell's key, if one exists and parses."""
    path = record_path(root, label, spec, key)
    if not path.exists():
        return None
    try:
        return _read(path)
    except ResultsError:
        return None


def load_records(paths: Iterable[Path]) -> list[Record]:
    """Load every record under the given files/folders; a file that does not parse is an error."""
    out: list[Record] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise ResultsError(f"no such results file or directory: {root}")
        out += [_read(f) for f in (sorted(root.rglob("*.json")) if root.is_dir() else [root])]
    return out
