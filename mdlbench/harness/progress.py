"""Progress display for long runs (rich). The library reports through `Reporter`; the CLI picks
the rich one, tests and Python callers get the silent one."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ..results.record import ERROR, FAILED, UNVERIFIED, Record


class Reporter:
    """Silent reporter: the interface the runner calls."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def start(self, total_cells: int) -> None: ...

    def cell(self, label: str, total_bytes: int) -> None: ...

    def bytes(self, done: int, total: int, bpb: float | None = None) -> None: ...

    def skipped(self, record: Record) -> None:
        """A finished cell was found in the results folder and is not run again."""

    def cell_done(self, record: Record) -> None: ...


def done_line(rec: Record) -> str:
    """One line per finished cell, in rich markup."""
    where = f"{rec.compressor.spec} on {rec.dataset.label}"
    if rec.status in (FAILED, ERROR):
        return f"[bold red]{rec.status.upper()}[/] {where}: {rec.error}"
    speed = f" {rec.encode_MBps:.3g} MB/s" if rec.encode_MBps else ""
    if rec.contended and speed:
        speed += " (contended: other cells ran at the same time)"
    mark = "[yellow]unverified[/]" if rec.status == UNVERIFIED else "[green]ok[/]"
    return f"{mark} {where}: {rec.bits:,} bits, {rec.bpb:.4f} bpb{speed}"


class RichReporter(Reporter):
    """Two bars: cells of the grid, and bytes of the cell now running (with its speed)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=True)
        self.bytes_progress = Progress(
            TextColumn("  {task.description}"), BarColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=self.console, transient=True)
        self._grid: Any = None
        self._cell: Any = None
        self._base = 0

    def __enter__(self) -> RichReporter:
        from rich.console import Group
        from rich.live import Live

        self._live = Live(Group(self.progress, self.bytes_progress), console=self.console,
                          refresh_per_second=8, transient=True)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.__exit__(*exc)

    def start(self, total_cells: int) -> None:
        self._grid = self.progress.add_task("cells", total=total_cells)

    def cell(self, label: str, total_bytes: int) -> None:
        if self._cell is not None:
            self.bytes_progress.remove_task(self._cell)
        self._label = label
        self._cell = self.bytes_progress.add_task(label, total=max(total_bytes, 1))

    def bytes(self, done: int, total: int, bpb: float | None = None) -> None:
        if self._cell is not None:
            extra = {"description": f"{self._label}  [cyan]{bpb:.4f} bpb so far[/]"} if bpb else {}
            self.bytes_progress.update(self._cell, completed=done, total=max(total, 1), **extra)

    def skipped(self, record: Record) -> None:
        self._advance(f"[dim]skip {record.compressor.spec} on {record.dataset.label} (done: "
                      f"{record.bits:,} bits, {record.status}; --force re-runs)[/dim]")

    def cell_done(self, record: Record) -> None:
        self._advance(done_line(record))

    def _advance(self, line: str) -> None:
        if self._grid is not None:
            self.progress.advance(self._grid)
        self.console.print(line)
