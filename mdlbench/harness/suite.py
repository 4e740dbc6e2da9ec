"""Suites as files: a TOML file names datasets, compressors and options, so a grid (or CI's gate
suite) is one reviewable file instead of a long command line.

    datasets = ["canterbury"]
    compressors = ["zstd:level=19", "xz:preset=9,extreme=true"]
    per_file = true

Several groups may be given as [[group]] tables with the same keys. Every value is checked when
the file is read: `per_file` a TOML boolean, `seeds` and `chunk_size` whole numbers >= 1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import fileio, limits
from ..errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

_KEYS = {"datasets", "compressors", "per_file", "chunk_size", "seeds"}


@dataclass(frozen=True)
class Group:
    """Datasets × compressors with the options they share: one block of a suite file."""

    datasets: list[str]
    compressors: list[str]
    per_file: bool = False
    chunk_size: int | None = None
    seeds: int = 1


def _strings(d: dict[str, Any], key: str, where: str) -> list[str]:
    v = d.get(key)
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
        raise UsageError(f"{where}: {key!r} must be a non-empty list of non-empty strings")
    return v


def _count(d: dict[str, Any], key: str, where: str, default: int | None) -> int | None:
    """A whole number >= 1 (TOML integers only: 1.5, "3" and true are refused)."""
    v = d.get(key, default)
    if v is None and default is None:
        return None
    if type(v) is not int or v < 1:
        raise UsageError(f"{where}: {key!r} must be a whole number of at least 1, got {v!r}")
    return v


def _group(d: Any, where: str) -> Group:
    """One group, checked against the suite schema: exactly the keys and types a Group has."""
    if not isinstance(d, dict):
        raise UsageError(f"{where}: a group must be a table of {', '.join(sorted(_KEYS))}")
    unknown = set(d) - _KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_KEYS))})")
    per_file = d.get("per_file", False)
    if not isinstance(per_file, bool):
        raise UsageError(f"{where}: 'per_file' must be true or false (unquoted), got {per_file!r}")
    seeds = _count(d, "seeds", where, 1)
    assert seeds is not None
    return Group(_strings(d, "datasets", where), _strings(d, "compressors", where), per_file,
                 _count(d, "chunk_size", where, None), seeds)


def load(path: Path) -> list[Group]:
    """The groups of a suite file, every value checked before anything runs."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no such suite file: {path}")
    raw = fileio.read_regular(path, "suite", limits.JSON_MAX_BYTES, UsageError)
    try:
        doc = tomllib.loads(raw.decode())
    except UnicodeDecodeError:
        raise UsageError(f"cannot read suite {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"cannot read suite {path}: {e}") from None
    raw_groups = doc.pop("group", [])
    if not isinstance(raw_groups, list):
        raise UsageError(f"{path}: 'group' must be [[group]] tables")
    groups = [_group(g, f"{path} [[group]] {i + 1}") for i, g in enumerate(raw_groups)]
    if doc:
        groups.insert(0, _group(doc, str(path)))
    if not groups:
        raise UsageError(f"suite {path} declares no datasets and compressors")
    return groups
