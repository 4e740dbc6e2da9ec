"""Progress of a run, shown where a person watches. The runner reports through `Reporter`; a
terminal gets rich's live bars, a Jupyter notebook tqdm's (widgets where ipywidgets is
installed, text otherwise), scripts and tests the silent one (`reporter_for` picks).

Cells that run in worker processes (-j N) report through a queue to the driver (`QueueReporter`
in the worker, `relay` in the driver), so the display shows every running cell with its bytes
and bits per byte so far, not only how many cells are done. A cell is known by its label
("SPEC on DATASET"), which its record repeats when it finishes.
"""

from __future__ import annotations

import sys
import time
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

from ..results import metrics
from ..results.record import ERROR, FAILED, UNVERIFIED, Record


def label_of(record: Record) -> str:
    """The label a cell's progress went under (what `runner.run_cell` announces)."""
    return f"{record.compressor.spec} on {record.dataset.label}"


class Reporter:
    """Silent reporter: the interface the runner calls. `cell` announces a cell and how many
    bytes it will work through; `bytes` says how far it is (and its bits per byte so far, for
    coders that know it); `label` names the cell when several run at once (None: the one
    announced last)."""

    draws = False
    """Whether it shows anything (a run whose reporter does not is quiet: no download bars)."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def start(self, total_cells: int) -> None: ...

    def cell(self, label: str, total_bytes: int) -> None: ...

    def bytes(self, done: int, total: int, bpb: float | None = None,
              label: str | None = None) -> None: ...

    def skipped(self, record: Record) -> None:
        """A finished cell was found in the results folder and is not run again."""

    def cell_done(self, record: Record) -> None: ...


def done_line(rec: Record) -> str:
    """One line per finished cell, in rich markup."""
    where = label_of(rec)
    if rec.status in (FAILED, ERROR):
        return f"[bold red]{rec.status.upper()}[/] {where}: {rec.error}"
    speed = metrics.show("encode_MBps", rec)
    if rec.contended and speed:
        speed += " (contended: other cells ran at the same time)"
    mark = "[yellow]unverified[/]" if rec.status == UNVERIFIED else "[green]ok[/]"
    figures = [metrics.show(name, rec) for name in ("bits", "bpb")] + [speed]
    return f"{mark} {where}: " + ", ".join(f for f in figures if f)


def _described(label: str, bpb: float | None) -> str:
    """A running cell's label with its bits per byte so far, printed as the metric is."""
    return f"{label}  bpb {metrics.get('bpb').fmt(bpb)} so far" if bpb else label


class RichReporter(Reporter):
    """A bar for the cells of the grid, and one for each cell now running (bytes, speed, and
    the running bits per byte of coders that report it)."""

    draws = True

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=True)
        self.bytes_progress = Progress(
            TextColumn("  {task.description}"), BarColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=self.console, transient=True)
        self._grid: Any = None
        self._running: dict[str, Any] = {}
        self._last: str | None = None

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
        if label in self._running:  # announced again (a cell that did not finish)
            self.bytes_progress.remove_task(self._running.pop(label))
        self._running[label] = self.bytes_progress.add_task(label, total=max(total_bytes, 1))
        self._last = label

    def bytes(self, done: int, total: int, bpb: float | None = None,
              label: str | None = None) -> None:
        task = self._running.get(label or self._last or "")
        if task is not None:  # bits per byte stay shown while the cell decodes
            more = {"description": _described(label or self._last or "", bpb)} if bpb else {}
            self.bytes_progress.update(task, completed=done, total=max(total, 1), **more)

    def skipped(self, record: Record) -> None:
        self._advance(f"[dim]skip {label_of(record)} (done: {record.bits:,} bits, "
                      f"{record.status}; --force re-runs)[/dim]")

    def cell_done(self, record: Record) -> None:
        task = self._running.pop(label_of(record), None)
        if task is not None:
            self.bytes_progress.remove_task(task)
        self._advance(done_line(record))

    def _advance(self, line: str) -> None:
        if self._grid is not None:
            self.progress.advance(self._grid)
        self.console.print(line)


class TqdmReporter(Reporter):
    """The same display for a notebook, with tqdm.auto: a bar for the cells, one per running
    cell, and a line per finished cell."""

    draws = True

    def __init__(self) -> None:
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self._grid: Any = None
        self._running: dict[str, Any] = {}
        self._last: str | None = None

    def __exit__(self, *exc: Any) -> None:
        for bar in self._running.values():
            bar.close()
        if self._grid is not None:
            self._grid.close()

    def start(self, total_cells: int) -> None:
        self._grid = self._tqdm(total=total_cells, desc="cells", unit="cell")

    def cell(self, label: str, total_bytes: int) -> None:
        if label in self._running:
            self._running.pop(label).close()
        self._running[label] = self._tqdm(total=max(total_bytes, 1), desc=label, unit="B",
                                          unit_scale=True, leave=False)
        self._last = label

    def bytes(self, done: int, total: int, bpb: float | None = None,
              label: str | None = None) -> None:
        name = label or self._last or ""
        bar = self._running.get(name)
        if bar is not None:
            bar.total = max(total, 1)
            bar.n = done
            if bpb:
                bar.set_description(_described(name, bpb), refresh=False)
            bar.refresh()

    def skipped(self, record: Record) -> None:
        self._advance(f"skip {label_of(record)} (done: {record.bits:,} bits, {record.status})")

    def cell_done(self, record: Record) -> None:
        bar = self._running.pop(label_of(record), None)
        if bar is not None:
            bar.close()
        self._advance(Console(no_color=True).render_str(done_line(record)).plain)

    def _advance(self, line: str) -> None:
        if self._grid is not None:
            self._grid.write(line, file=sys.stderr)
            self._grid.update(1)


def in_notebook() -> bool:
    """Running in a Jupyter kernel (where a terminal's live display does not render)."""
    shell = sys.modules.get("IPython")
    ip = getattr(shell, "get_ipython", lambda: None)() if shell else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def reporter_for(progress: bool | None = None) -> Reporter:
    """The display for a run: False: none; True: always; None: where a person watches (a
    notebook, or standard error on a terminal)."""
    if progress is False:
        return Reporter()
    if in_notebook():
        return TqdmReporter()
    if progress or sys.stderr.isatty():
        return RichReporter()
    return Reporter()


class QueueReporter(Reporter):
    """A worker's reporter: puts what the runner says on a queue the driver reads (`relay`),
    at most every `every` seconds per cell (plus each cell's start and its last bytes)."""

    draws = True

    def __init__(self, queue: Any, every: float = 0.1) -> None:
        self.queue, self.every = queue, every
        self._label = ""
        self._sent = 0.0

    def cell(self, label: str, total_bytes: int) -> None:
        self._label = label
        self.queue.put(("cell", label, total_bytes))

    def bytes(self, done: int, total: int, bpb: float | None = None,
              label: str | None = None) -> None:
        now = time.monotonic()
        if now - self._sent >= self.every or done >= total:
            self._sent = now
            self.queue.put(("bytes", label or self._label, done, total, bpb))


def relay(message: tuple[Any, ...], reporter: Reporter) -> None:
    """Show in the driver what a worker's QueueReporter sent."""
    if message[0] == "cell":
        reporter.cell(message[1], message[2])
    elif message[0] == "bytes":
        _, label, done, total, bpb = message
        reporter.bytes(done, total, bpb, label=label)
