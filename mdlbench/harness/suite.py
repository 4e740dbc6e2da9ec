"""Suites as files: a TOML file names datasets, compressors and options, so a grid (or CI's gate
suite) is one reviewable file instead of a long command line.

    datasets = ["canterbury"]
    compressors = ["zstd:level=19", "xz:preset=9,extreme=true"]
    per_file = true

Several groups may be given as [[group]] tables with the same keys.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _group(d: dict[str, Any], where: str) -> Group:
    unknown = set(d) - _KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_KEYS))})")
    ds, cs = d.get("datasets"), d.get("compressors")
    if not isinstance(ds, list) or not ds or not all(isinstance(x, str) for x in ds):
        raise UsageError(f"{where}: 'datasets' must be a non-empty list of strings")
    if not isinstance(cs, list) or not cs or not all(isinstance(x, str) for x in cs):
        raise UsageError(f"{where}: 'compressors' must be a non-empty list of strings")
    return Group(ds, cs, bool(d.get("per_file", False)), d.get("chunk_size"), int(d.get("seeds", 1)))


def load(path: Path) -> list[Group]:
    try:
        doc = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"no such suite file: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"cannot read suite {path}: {e}") from None
    groups = [_group(g, f"{path} [[group]] {i + 1}") for i, g in enumerate(doc.pop("group", []))]
    if doc:
        groups.insert(0, _group(doc, str(path)))
    if not groups:
        raise UsageError(f"suite {path} declares no datasets and compressors")
    return groups
