"""The CI regression gate: compare cells' bit counts with a committed baseline.

Baseline format (JSON): {"schema": 1, "cells": {"DATASET_LABEL | SPEC": bits, ...}}. A cell
regresses when its new bits exceed the baseline by more than the tolerance (bits, or a
percentage like "0.5%"). A baseline cell with no new result, a failed round trip, a cell that
could not run, or bits that were never decoded back (--no-verify) also fail the gate: what was
not measured cannot be said to be no worse.

The gate fails closed: a tolerance must be a finite number >= 0 (nan, inf and negative values
are usage errors, since nan compares false and inf lets anything through), and a baseline
that is empty, of another schema, or not {name: bits of a stream} (whole bytes, no more than
record.MAX_BITS) is an error, never a gate that passes because it checked nothing. The report
keeps apart the cells that are unchanged (equal bits), better, and worse but within the
tolerance.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ResultsError, UsageError
from .record import ERROR, MAX_BITS, UNVERIFIED, VERIFIED, Record, latest
from .store import atomic_write, read_json

SCHEMA = 1
SEPARATOR = " | "
"""Between the dataset label and the spec in a cell's name (Record.name)."""


@dataclass
class GateReport:
    regressions: list[tuple[str, int, int]] = field(default_factory=list)
    improvements: list[tuple[str, int, int]] = field(default_factory=list)
    within: list[tuple[str, int, int]] = field(default_factory=list)
    """Cells whose bits rose, by no more than the tolerance: passed, and said so."""
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Baseline cells whose new stream did not decode back."""
    errors: list[str] = field(default_factory=list)
    """Baseline cells that could not run at all."""
    unverified: list[str] = field(default_factory=list)
    """Baseline cells whose new bits were never decoded back (--no-verify)."""
    new: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def problems(self) -> int:
        return (len(self.regressions) + len(self.missing) + len(self.failed) + len(self.errors)
                + len(self.unverified))

    @property
    def ok(self) -> bool:
        return self.problems == 0


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
    if not math.isfinite(v) or v < 0:
        raise UsageError(f"bad tolerance {text!r}: must be a finite number, not negative")
    return v, rel


def current_cells(records: list[Record]) -> tuple[dict[str, int], dict[str, str]]:
    """(verified bits by cell name, status of every cell that is not verified)."""
    cells: dict[str, int] = {}
    other: dict[str, str] = {}
    for r in latest(records):
        if r.status == VERIFIED and r.bits is not None:
            cells[r.name] = r.bits
        else:
            other[r.name] = r.status
    return cells, other


def load_baseline(path: Path) -> dict[str, int]:
    """The cells of a baseline file, checked: ResultsError for anything but a non-empty
    {"schema": 1, "cells": {"LABEL | SPEC": bits}} with non-negative integer bits."""
    if not Path(path).exists() and not Path(path).is_symlink():
        raise ResultsError(f"no such baseline: {path} (create it with `mdlbench gate --update`)")
    doc = read_json(Path(path), "baseline")
    what = f"baseline {path} is not an mdlbench baseline"
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), dict):
        raise ResultsError(f"{what}: expected {{\"schema\": 1, \"cells\": {{name: bits}}}}")
    schema = doc.get("schema", SCHEMA)
    if type(schema) is int and schema > SCHEMA:
        raise ResultsError(f"baseline {path} was written by a newer mdlbench (schema {schema} > "
                           f"{SCHEMA}); upgrade mdlbench to read it")
    if schema != SCHEMA:
        raise ResultsError(f"{what}: schema {schema!r} (this mdlbench reads {SCHEMA})")
    cells = doc["cells"]
    if not cells:
        raise ResultsError(f"baseline {path} has no cells: it would pass anything")
    for name, bits in cells.items():
        if SEPARATOR not in name:
            raise ResultsError(f"{what}: cell name {name!r} is not 'DATASET | SPEC'")
        if type(bits) is not int or not 0 <= bits <= MAX_BITS or bits % 8:
            raise ResultsError(f"{what}: cell {name!r} has {bits!r}, not a number of bits of a "
                               f"stream (8 × its bytes, at most {MAX_BITS:,})")
    return cells


def write_baseline(path: Path, records: list[Record]) -> dict[str, int]:
    cells, other = current_cells(records)
    if other:
        names = sorted(other)
        shown = "; ".join(f"{n} ({other[n]})" for n in names[:5])
        more = f"; and {len(names) - 5} more" if len(names) > 5 else ""
        raise ResultsError(f"refusing to write a baseline with {len(names)} cell(s) that are "
                           f"not verified: {shown}{more}")
    if not cells:
        raise ResultsError("no results to write a baseline from")
    atomic_write(Path(path), json.dumps({"schema": 1, "cells": dict(sorted(cells.items()))},
                                        indent=2) + "\n")
    return cells


def gate(baseline: dict[str, int], records: list[Record],
         tolerance: str | float = 0) -> GateReport:
    tol, rel = parse_tolerance(tolerance)
    cells, other = current_cells(records)
    rep = GateReport()
    for name, old in sorted(baseline.items()):
        if name in other:
            {UNVERIFIED: rep.unverified, ERROR: rep.errors}.get(other[name], rep.failed).append(name)
            continue
        new = cells.get(name)
        if new is None:
            rep.missing.append(name)
            continue
        allowed = old * tol if rel else tol
        if new > old + allowed:
            rep.regressions.append((name, old, new))
        elif new > old:
            rep.within.append((name, old, new))
        elif new < old:
            rep.improvements.append((name, old, new))
        else:
            rep.unchanged += 1
    rep.new = sorted(set(cells) - set(baseline))
    return rep
