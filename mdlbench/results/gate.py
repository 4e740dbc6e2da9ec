"""The CI regression gate: compare cells' bit counts with a committed baseline.

Baseline format (JSON): {"schema": 1, "cells": {"DATASET_LABEL | SPEC": bits, ...}}. A cell
regresses when its new bits exceed the baseline by more than the tolerance (bits, or a
percentage like "0.5%"). A baseline cell with no new result, or a failed round trip, also fails
the gate: what was not measured cannot be said to be no worse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ResultsError, UsageError
from .leaderboard import frame
from .store import atomic_write


def cell_name(dataset: str, spec: str) -> str:
    return f"{dataset} | {spec}"


@dataclass
class GateReport:
    regressions: list[tuple[str, int, int]] = field(default_factory=list)
    improvements: list[tuple[str, int, int]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not (self.regressions or self.missing or self.failed)


def parse_tolerance(text: str | float | int) -> tuple[float, bool]:
    """Return (value, is_relative). "0.5%" is relative; a bare number is bits."""
    s = str(text).strip()
    try:
        if s.endswith("%"):
            v, rel = float(s[:-1]) / 100, True
        else:
            v, rel = float(s), False
    except ValueError:
        raise UsageError(f"bad tolerance {text!r}: use bits (e.g. 0, 64) or a percentage (0.5%)") from None
    if v < 0:
        raise UsageError(f"bad tolerance {text!r}: must not be negative")
    return v, rel


def current_cells(records: list[dict[str, Any]]) -> tuple[dict[str, int], set[str]]:
    df = frame(records)
    cells: dict[str, int] = {}
    failed: set[str] = set()
    for row in df.itertuples():
        name = cell_name(row.dataset, row.compressor)
        if not pd.isna(row.seed):
            name += f" | seed={int(row.seed)}"
        if row.verified is False:
            failed.add(name)
        else:
            cells[name] = int(row.bits)
    return cells, failed


def load_baseline(path: Path) -> dict[str, int]:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ResultsError(f"no such baseline: {path} (create it with `mdlbench gate --update`)") from None
    except (OSError, ValueError) as e:
        raise ResultsError(f"baseline {path} does not parse: {e}") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, dict) or not all(isinstance(v, int) for v in cells.values()):
        raise ResultsError(f"baseline {path} does not parse: expected {{\"cells\": {{name: bits}}}}")
    return cells


def write_baseline(path: Path, records: list[dict[str, Any]]) -> dict[str, int]:
    cells, failed = current_cells(records)
    if failed:
        raise ResultsError(f"refusing to write a baseline with failed cells: {sorted(failed)[0]}")
    if not cells:
        raise ResultsError("no results to write a baseline from")
    atomic_write(Path(path), json.dumps({"schema": 1, "cells": dict(sorted(cells.items()))},
                                        indent=2) + "\n")
    return cells


def gate(baseline: dict[str, int], records: list[dict[str, Any]], tolerance: str | float = 0) -> GateReport:
    tol, rel = parse_tolerance(tolerance)
    cells, failed = current_cells(records)
    rep = GateReport()
    for name, old in sorted(baseline.items()):
        if name in failed:
            rep.failed.append(name)
            continue
        new = cells.get(name)
        if new is None:
            rep.missing.append(name)
            continue
        allowed = old * tol if rel else tol
        if new > old + allowed:
            rep.regressions.append((name, old, new))
        elif new < old:
            rep.improvements.append((name, old, new))
        else:
            rep.unchanged += 1
    rep.new = sorted(set(cells) - set(baseline))
    return rep
