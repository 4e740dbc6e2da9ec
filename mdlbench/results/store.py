"""Result records on disk: one JSON file per cell, written atomically (temp file + rename), so a
killed run never leaves a half-written record, and a re-run finds finished cells by key."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import fileio, limits
from ..errors import MdlbenchError, ResultsError
from .record import NewerRecordError, Record, RecordError

DEFAULT_DIR = Path("results/runs")


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write atomically (temp file + rename): readers see old or new, never half. A special file
    at `path` is never replaced (see fileio.write_output)."""
    fileio.write_output(path, text)


def cell_key(fields: dict[str, Any]) -> str:
    """A stable hash of what determines a cell's result (data, spec, code, seed...)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _safe(text: str) -> str:
    """A file or folder name from a label or spec: never `.` or `..` (a plugin dataset named
    so would put its records beside or above the results folder)."""
    name = re.sub(r"[^A-Za-z0-9._=,+-]+", "_", text)[:80]
    return name if name.strip(".") else "_"


def record_path(root: Path, label: str, spec: str, key: str) -> Path:
    return Path(root) / _safe(label) / f"{_safe(spec)}--{key}.json"


def save(root: Path, record: Record) -> Path:
    path = record_path(root, record.dataset.label, record.compressor.spec, record.key)
    atomic_write(path, json.dumps(record.to_dict(), indent=2) + "\n")
    return path


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: with `"bits"` twice, which one a reader
    takes is up to the parser, so the document is refused instead."""
    d = dict(pairs)
    if len(d) != len(pairs):
        dup = next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i]))
        raise ValueError(f"the key {dup!r} appears twice in one object")
    return d


def read_json(f: Path, what: str = "results file") -> Any:
    """A JSON document from a regular file of reasonable size, no key twice in an object;
    ResultsError otherwise."""
    raw = fileio.read_regular(f, what, limits.JSON_MAX_BYTES, ResultsError)
    try:
        doc = json.loads(raw, object_pairs_hook=_unique)
        # A lone surrogate ("\ud800") parses, but nothing can print it; a file name's
        # undecodable bytes (\udc80-\udcff, as Python reads such names) are kept.
        json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogateescape")
        return doc
    except UnicodeEncodeError:
        raise ResultsError(f"corrupt {what} {f}: a text holds a lone surrogate "
                           f"such as \\ud800, which is no character") from None
    except (ValueError, RecursionError) as e:  # RecursionError: absurdly deep nesting
        why = str(e) if isinstance(e, ValueError) else "nested too deeply"
        raise ResultsError(f"corrupt {what} {f}: it does not parse ({why})") from None


def record(doc: Any, f: Path) -> Record:
    """The record a document read from `f` holds; ResultsError naming `f` otherwise (one for
    a record of a newer mdlbench, which is not damaged)."""
    try:
        return Record.from_dict(doc, str(f))
    except NewerRecordError as e:
        raise ResultsError(f"results file {f} was {e}") from None
    except RecordError as e:
        raise ResultsError(f"corrupt results file {f}: not an mdlbench record ({e})") from None


def _read(f: Path) -> Record:
    return record(read_json(f), f)


def is_baseline(doc: Any) -> bool:
    """A gate baseline ({"schema", "cells"}), which may sit in a results folder (results/)."""
    return isinstance(doc, dict) and "cells" in doc and set(doc) <= {"schema", "cells"}


def find(root: Path, label: str, spec: str, key: str) -> Record | None:
    """The finished record stored under this cell's key, if one exists and parses."""
    path = record_path(root, label, spec, key)
    if not path.exists():
        return None
    try:
        return _read(path)
    except MdlbenchError:  # damaged, or not a regular file: the cell runs again
        return None


def load_records(paths: Iterable[Path]) -> list[Record]:
    """Every record under the given files/folders. In a folder, gate baselines are skipped (the
    project's results/ holds one); any other file that is not a whole record is an error, and
    so is a record file given by name that is not one."""
    out: list[Record] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise ResultsError(f"no such results file or directory: {root}")
        if not root.is_dir():
            out.append(_read(root))
            continue
        for f in sorted(root.rglob("*.json")):
            doc = read_json(f)
            if is_baseline(doc):
                continue
            out.append(record(doc, f))
    return out
