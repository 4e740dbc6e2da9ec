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
    """A stable hash of what determines a cell's result (data, spec, library version, seed...)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=,+-]+", "_", text)[:80] or "_"


def record_path(root: Path, record: dict[str, Any]) -> Path:
    return Path(root) / _safe(record["dataset"]["label"]) / f"{_safe(record['compressor']['spec'])}--{record['key']}.json"


def save(root: Path, record: dict[str, Any]) -> Path:
    path = record_path(root, record)
    atomic_write(path, json.dumps(record, indent=2, sort_keys=False) + "\n")
    return path


def find(root: Path, record_like: dict[str, Any]) -> dict[str, Any] | None:
    """The finished record for this cell's key, if one exists and parses."""
    path = record_path(root, record_like)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def load_records(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Load every record under the given files/folders; a file that does not parse is an error."""
    out: list[dict[str, Any]] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise ResultsError(f"no such results file or directory: {root}")
        files = sorted(root.rglob("*.json")) if root.is_dir() else [root]
        for f in files:
            try:
                rec = json.loads(f.read_text())
            except (OSError, ValueError) as e:
                raise ResultsError(f"corrupt results file {f}: {e}") from None
            if not isinstance(rec, dict) or "bits" not in rec or "compressor" not in rec:
                raise ResultsError(f"corrupt results file {f}: not an mdlbench record")
            rec["_path"] = str(f)
            out.append(rec)
    return out
