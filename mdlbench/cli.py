"""The command line: parse, call mdlbench.api, print. No logic lives here."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import (
    BUG_EXIT,
    INTERRUPTED_EXIT,
    TERMINATED_EXIT,
    DataError,
    MdlbenchError,
    UsageError,
)
from .harness.measure import MIN_TIME, REPEAT
from .interrupt import Terminated, watching
from .limits import MAX_CELLS
from .results import metrics, store
from .stdio import to_stderr
from .version import __version__


class PipeClosed(Exception):  # noqa: N818 - an event, like KeyboardInterrupt
    """The reader of standard output went away (`mdlbench list | head -c1`)."""


class _Console(Console):
    def on_broken_pipe(self) -> None:  # rich's own ends with status 1
        raise PipeClosed


def _console(stderr: bool = False) -> Console:
    """Rich consoles; when piped (no terminal), COLUMNS wide, or 160 columns where it is unset
    (result tables print wider still rather than fold: `_print_table`)."""
    c = _Console(stderr=stderr)
    if c.is_terminal or os.environ.get("COLUMNS", "").isdigit():
        return c
    return _Console(stderr=stderr, width=160)


out = _console()
err = _console(stderr=True)

OPTIONAL = {"torch": "torch", "ray": "ray", "transformers": "hf", "tokenizers": "hf"}
"""Packages of the optional extras (pyproject.toml), by module: a coder that needs a missing one
fails with the install line, not a traceback."""

SPEC_HELP = ("Compressor spec NAME[:key=value,...]; repeatable. Ranges sweep: zstd:level=1..22. "
             "See `mdlbench list` for names and parameters.")


class Group(click.Group):
    """click's group, except that a closed standard output reaches `main` (click itself
    would end with status 0 or 1 after a truncated output)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise PipeClosed from None


@click.group(cls=Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mdlbench")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE_OR_FILE",
              help="Load compressors and datasets from a module or .py file; repeatable (also "
              "$MDLBENCH_PLUGINS, colon-separated). Installed packages' entry points load by "
              "themselves.")
def cli(plugins: tuple[str, ...]) -> None:
    """Total description length in bits, from real bitstreams.

    Run compressors on datasets (`run`), read the leaderboard (`compare`), gate CI on bit
    counts (`gate`), compress real files (`encode` / `decode`). Every figure is the length of a
    stream that decodes back to the input, in bits; `bits_ideal` (Σ -log2 p) is shown beside it
    for model-based coders.
    """
    from . import plugins as pluginmod

    pluginmod.activate(plugins)


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--family", metavar="FAMILY",
              help="Only the compressors of this family (classical, statistical, ...), with "
              "their library and whether it is installed; no datasets. `-c family=FAMILY` runs "
              "the installed ones.")
def list_cmd(as_json: bool, family: str | None) -> None:
    """Registered compressors (parameters, defaults, library version) and datasets
    (size, source, licence, sha256)."""
    from . import api

    cat = api.catalogue()
    if family is not None:
        from .compressors.binding import INSTALL

        comps = [c for c in cat["compressors"] if c["family"] == family]
        if not comps:
            known = ", ".join(sorted({c["family"] for c in cat["compressors"]}))
            raise UsageError(f"no compressor of family {family!r} (families: {known})")
        if as_json:
            import json

            click.echo(json.dumps(comps, indent=2))
            return
        t = Table(title=f"Compressors of family {family}", title_justify="left")
        for col in ("name", "library", "version", "parameters (default, range)", "summary"):
            t.add_column(col, overflow="fold")
        for c in comps:
            version = c["version"] if c["installed"] else f"not installed: {INSTALL}"
            t.add_row(c["name"], c["library"], version, c["params"], c["summary"])
        out.print(t)
        return
    if as_json:
        import json

        click.echo(json.dumps(cat, indent=2))
        return
    t = Table(title="Compressors", title_justify="left")
    for col in ("name", "family", "parameters (default, range)", "version", "summary"):
        t.add_column(col, overflow="fold")
    for c in cat["compressors"]:
        # the file's name: a table as wide on every clone (`list --json` has the full path)
        where = f" (plugin: {Path(c['plugin']).name})" if c.get("plugin") else ""
        t.add_row(c["name"], c["family"], c["params"], c["version"], c["summary"] + where)
    out.print(t)
    t = Table(title="Datasets", title_justify="left")
    for col in ("name", "kind", "present", "size / parameters", "source, licence", "sha256"):
        t.add_column(col, overflow="fold")
    for d in cat["datasets"]:
        size = "; ".join(x for x in (f"{d['size']:,} B in {d['files']} file(s)" if "size" in d
                                     else "", d.get("params", "")) if x)
        prov = f"{d['source']}; {d['licence']}" if d.get("source") else d.get("summary", "")
        sha = d.get("sha256") or (f"archive {d['archive_sha256']}" if d.get("archive_sha256")
                                  else "(generated)" if d.get("present") == "generated" else "")
        t.add_row(d["name"], d["kind"], d.get("present", ""), size, prov, sha)
    out.print(t)
    out.print("Any file or directory path is a dataset too (a directory: files in sorted order). "
              "Corpora not present are downloaded on first use, or now by `mdlbench fetch NAME`.")


@cli.command()
@click.argument("datasets", nargs=-1, required=True)
def fetch(datasets: tuple[str, ...]) -> None:
    """Download corpora (enwik8, silesia, ...) or url: datasets into the data cache now, checked
    against their sha256; `run` otherwise downloads them on first use. The cache is the user's
    cache folder, or $MDLBENCH_DATA when set."""
    from .datasets import fetch as fetch_dataset

    for text in datasets:
        r = fetch_dataset(text)
        if "note" in r:
            click.echo(f"{r['name']}: {r['note']}")
        elif r["sha256"]:
            click.echo(f"{r['name']}: {r['files']} file(s), {r['size']:,} B, sha256 checked, "
                       f"in {r['path']}")
        else:
            click.echo(f"{r['name']}: {r['size']:,} B in {r['path']}; its sha256 is "
                       f"{r['actual_sha256']}: check that against a source you trust, then use "
                       f"{r['name']},sha256={r['actual_sha256']}")


@cli.command()
@click.argument("datasets", nargs=-1)
@click.option("-c", "--compressor", "compressors", multiple=True, metavar="SPEC", help=SPEC_HELP)
@click.option("--suite", type=click.Path(path_type=Path), help="TOML file declaring datasets, compressors and options.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=store.DEFAULT_DIR,
              show_default=True, help="Folder for the per-cell JSON records.")
@click.option("--per-file", is_flag=True, help="Compress each file of a dataset on its own; report each and the total.")
@click.option("--chunk-size", type=int, help="Compress independent chunks of N bytes (LMIC uses 2048); report the total.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Seeds 0..N-1 for stochastic coders.")
@click.option("--force", is_flag=True, help="Re-run cells that already have a result.")
@click.option("--no-verify", is_flag=True, help="Skip decoding (bits are then unverified, and marked so).")
@click.option("--labels", metavar="COLUMN", help="DATASETS are labelled tables (CSV/NPZ): code this column given the rest.")
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), help="Device for neural coders.")
@click.option("--repeat", type=int, metavar="N",
              help=f"Time encode and decode up to N times each (after a warm-up) and report the "
              f"fastest, as lzbench does; 1 times a single run.  [default: {REPEAT}]")
@click.option("--min-time", type=float, metavar="SECONDS",
              help=f"Stop repeating once this much time was measured: a fast codec is timed "
              f"several times in a fraction of a second, a coder slower than this runs once.  "
              f"[default: {MIN_TIME}]")
@click.option("-j", "--jobs", type=int, default=1, show_default=True,
              help="Run N cells at once in local processes. One at a time by default so every "
              "speed is the coder's own; with N > 1 cells share the CPUs and their speeds are "
              "marked contended.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="ray: run cells as Ray tasks (pip install 'mdlbench[ray]'); GPU cells request a "
              "GPU; speeds are marked contended.")
@click.option("--address", help="Ray cluster address (auto, HOST:PORT); default starts a local one.")
@click.option("--max-cells", type=int, metavar="N",
              help=f"Refuse a grid of more than N cells (datasets × compressor specs × seeds, "
              f"counted before any work).  [default: {MAX_CELLS:,}]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or per-cell lines.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="json: print this run's records (a JSON list, as stored "
              "under --results) on stdout instead of the tables, for scripts; progress still "
              "goes to stderr.")
def run(datasets: tuple[str, ...], compressors: tuple[str, ...], suite: Path | None,
        results_dir: Path, per_file: bool, chunk_size: int | None, seeds: int, force: bool,
        no_verify: bool, labels: str | None, device: str | None, repeat: int | None,
        min_time: float | None,
        jobs: int, executor: str, address: str | None, max_cells: int | None, quiet: bool,
        fmt: str) -> None:
    """Measure the description length of DATASETS under each compressor.

    DATASETS are shipped names (canterbury, bible), corpora downloaded on first use (enwik8,
    silesia, ...), files by URL (url:https://...,sha256=HEX), synthetic sources with parameters
    (markov:order=2,k=4,n=1e5), or paths. Without -c, the classical line-up runs
    (zlib, bzip2, zstd, brotli, xz, lz4, PPMd, ZPAQ). Each cell compresses, decompresses and
    compares with the input; a mismatch is a failed cell and the exit status is 1.
    """
    from . import api
    from .harness.progress import Reporter, RichReporter
    from .results.leaderboard import leaderboard, parts_table

    options = api.RunOptions(
        results_dir=results_dir, per_file=per_file, chunk_size=chunk_size, force=force,
        seeds=seeds, verify=not no_verify, reporter=Reporter() if quiet else RichReporter(err),
        labels=labels, overrides={"device": device} if device else None, jobs=jobs,
        executor=executor, address=address, repeat=repeat, min_time=min_time,
        max_cells=max_cells)
    with to_stderr():  # stdout is for the tables or the JSON, whatever coder code writes
        records = api.run(datasets, compressors or None, suite=suite, options=options)
    if fmt == "json":
        import json

        click.echo(json.dumps([r.to_dict() for r in records], indent=2))
    elif not quiet:
        board = leaderboard(records, "bpb")
        _print_table(board, f"This run ({board.attrs.get('caption', 'bpb')})")
        if any(r.parts for r in records):
            _print_table(parts_table(records), "Per file (compressed bytes)")
    bad = [r for r in records if r.status in ("failed", "error")]
    if bad:
        err.print(f"[bold red]{len(bad)} cell(s) failed their round trip or could not run[/]")
        sys.exit(1)


_STYLE = {"failed": "red", "error": "red", "unverified": "yellow", "contended": "dim"}


def _shown(text: str) -> str:
    """A name as the terminal shows it: text, not markup; a control character (an escape
    sequence in a file name) or an undecodable byte (a lone surrogate) as its escape."""
    return escape("".join(c if c.isprintable() else ascii(c)[1:-1] for c in text))


def _print_table(table: Any, title: str) -> None:
    """A result table on the terminal, through the same formatter as Markdown and HTML."""
    from .results import tables

    if table.empty:
        out.print("no results")
        return
    t = Table(title=escape(title), title_justify="left")  # labels are text, never markup
    t.add_column(_shown(str(table.index.name or "")), overflow="fold")
    for c in table.columns:
        text = tables.kind_of(table, c) == "text"
        t.add_column(_shown(str(c)), overflow="fold", no_wrap=not text,  # a number never splits
                     justify="left" if text else "right")
    for name, cells in tables.rows(table):
        t.add_row(_shown(name), *[_shown(text) if mark not in _STYLE else
                          f"[{_STYLE[mark]}]{_shown(text)}[/]" for text, mark in cells])
    # Never narrower than the table can be without splitting a word or number: a terminal too
    # narrow wraps the lines instead of rich squeezing columns empty; a pipe gets it unfolded.
    need = out.measure(t, options=out.options.update_width(1 << 16))
    width = out.width
    out.width = max(width, need.minimum if out.is_terminal else need.maximum)
    try:
        out.print(t)
    finally:
        out.width = width
    for line in tables.legend(table):
        out.print(escape(line), style="dim")


@cli.command()
@click.argument("results", nargs=-1, type=click.Path(path_type=Path))
@click.option("--view", type=click.Choice(["board", "dataset", "parts", "cells", "spread"]),
              default="board",
              show_default=True, help="board: compressors × datasets, best first; dataset: one "
              "dataset in full (bytes, ratio, bits, speeds, decode/encode, runs, library; copy, "
              "the speed limit, on top), as lzbench prints a table; parts: bytes per "
              "file of --per-file runs; cells: everything measured, one row per cell; spread: "
              "RESULTS are repeated runs of the same cells, and how far their speeds moved.")
@click.option("--format", "fmt", type=click.Choice(["table", "md", "csv", "json", "html"]),
              default="table", show_default=True,
              help="table: on the terminal (written with -o, it is Markdown).")
@click.option("--metric", default="bpb", show_default=True,
              help=f"The board's (and html's) figure: {metrics.describe()}. Per label for "
              "labelled data. A figure a dataset or coder does not define is left blank. The "
              "other views show all their figures.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file (atomically). The html board defaults to results/leaderboard.html.")
@click.option("--write", is_flag=True, help="Also write the Markdown leaderboard to results/LEADERBOARD.md.")
@click.option("--dataset", "datasets", multiple=True, metavar="PATTERN",
              help="Only these datasets (label or name; glob patterns: 'markov*'); repeatable.")
@click.option("--compressor", "compressors", multiple=True, metavar="PATTERN",
              help="Only these compressors (spec or name; glob patterns: 'zstd:*'); repeatable.")
@click.option("--sort", metavar="COLUMN",
              help="Order rows by this column (a dataset, encode_MBps, ...; a glob naming one), "
              "best first. The board's default is the mean rank over its datasets.")
@click.option("--mean-rank", is_flag=True,
              help="html: add a table of all datasets by mean rank (off by default: ranks of "
              "unrelated datasets do not add up).")
def compare(results: tuple[Path, ...], view: str, fmt: str, metric: str, output: Path | None,
            write: bool, datasets: tuple[str, ...], compressors: tuple[str, ...],
            sort: str | None, mean_rank: bool) -> None:
    """Tables of RESULTS (folders or record files; default results/runs). The leaderboard has
    compressors as rows, datasets as columns, best first, with encode/decode speeds; the html
    page has one section per dataset, sortable, with its plots."""
    from . import api

    results = results or (store.DEFAULT_DIR,)
    given = click.get_current_context().get_parameter_source("metric")
    if view != "board" and fmt != "html" and given is click.core.ParameterSource.COMMANDLINE:
        raise UsageError(f"--metric chooses the board's figure; --view {view} shows all of "
                         f"its figures (leave --metric out)")
    chosen = {"dataset": datasets, "compressor": compressors, "sort": sort}
    if fmt == "table" and output is None:
        table = api.table(results, view, metric, **chosen)
        _print_table(table, table.attrs.get("caption", view) if view == "board" else view)
    else:
        text = api.report(results, view, "md" if fmt == "table" else fmt, metric, **chosen,
                          mean_rank=mean_rank)
        target = api.report_path(output, view, fmt)
        if target is None:
            click.echo(text, nl=False)
        else:
            store.atomic_write(target, text)
            err.print(f"wrote {target}")
    if write:
        err.print(f"wrote {api.write_leaderboard(results, metric)}")


@cli.command()
@click.argument("results", nargs=-1, type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["all", "pareto", "learning", "blocks", "sweep"]),
              default="all", show_default=True, help="pareto: a metric (--metric) vs speed; "
              "learning: code length vs data seen (prequential coders); "
              "blocks: block-MDL curves (labelled data); sweep: bits above the source limit vs n, "
              "for datasets run at several sizes (suites/sweep.toml).")
@click.option("--x", "x", type=click.Choice(["encode", "decode"]), default="encode",
              show_default=True, help="pareto: the speed on the x axis.")
@click.option("--metric", default="bpb", show_default=True,
              help=f"pareto: the figure on the y axis, one of {', '.join(metrics.TABLE)} "
              "(see compare --help).")
@click.option("--dataset", help="Dataset to plot (label, name, or path as run); pareto needs one "
              "when results "
              "hold several; for sweep, a task name (parity) or its spec without n.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results/plots"),
              show_default=True, help="Folder for the image files.")
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True)
def plot(results: tuple[Path, ...], kind: str, x: str, metric: str, dataset: str | None,
         out: Path, fmt: str) -> None:
    """Plot RESULTS (default results/runs) as PNG/SVG files."""
    from . import api

    for p in api.write_plots(results or (store.DEFAULT_DIR,), kind, dataset, out, fmt, x=x,
                             metric=metric):
        err.print(f"wrote {p}")


@cli.command()
@click.option("--baseline", type=click.Path(path_type=Path), default=Path("results/baseline.json"),
              show_default=True)
@click.option("--results", "results", multiple=True, type=click.Path(path_type=Path),
              help="Results folders/files (default results/runs).")
@click.option("--tolerance", default="0", show_default=True,
              help="Allowed increase per cell: bits (64) or a percentage (0.5%).")
@click.option("--update", is_flag=True, help="Rewrite the baseline from the results, on purpose.")
def gate(baseline: Path, results: tuple[Path, ...], tolerance: str, update: bool) -> None:
    """Fail (exit 1) when any cell's bit count went up against the baseline.

    Missing cells, failed round trips, cells that could not run and unverified bits fail the
    gate too. --update rewrites the baseline.
    """
    from . import api

    rep = api.gate(baseline, results or (store.DEFAULT_DIR,), tolerance, update)
    if update:
        out.print(f"baseline {baseline} written: {len(rep)} cells")
        return
    bits = metrics.get("bits")

    def change(old: int, new: int) -> str:
        return f"{bits.fmt(old)} -> {bits.fmt(new)} {bits.unit} ({new - old:+,})"

    said = ([("[red]REGRESSION[/]", n, change(o, w)) for n, o, w in rep.regressions]
            + [("[red]FAILED[/]", n, "round trip failed") for n in rep.failed]
            + [("[red]ERROR[/]", n, "the cell could not run") for n in rep.errors]
            + [("[red]UNVERIFIED[/]", n, "bits never decoded back (--no-verify)")
               for n in rep.unverified]
            + [("[red]MISSING[/]", n, "in the baseline, not in the results") for n in rep.missing]
            + [("[yellow]within tolerance[/]", n, change(o, w)) for n, o, w in rep.within]
            + [("[green]better[/]", n, change(o, w)) for n, o, w in rep.improvements])
    for tag, name, what in said:  # a cell's name is a dataset label: text, never markup
        out.print(f"{tag} {escape(name)}: {what}")
    for name in rep.new:
        out.print(f"[dim]new[/] {escape(name)} (not in the baseline)")
    counts = (f"{rep.unchanged} unchanged, {len(rep.improvements)} better, "
              f"{len(rep.within)} worse within tolerance")
    if not rep.ok:
        out.print(f"[bold red]gate failed[/]: {rep.problems} problem(s); {counts}")
        sys.exit(1)
    out.print(f"[bold green]gate passed[/]: {counts}")


def _input_and_output(input: Path, output: Path) -> bytes:
    """The input's bytes, once it is known that writing `output` will not destroy it."""
    from . import fileio

    if not input.exists() and not input.is_symlink():
        raise UsageError(f"no such file: {input}")
    if fileio.same_file(input, output):
        raise UsageError(f"{output} is {input} (the same file): mdlbench never writes over its "
                         f"input")
    return fileio.read_regular(input, "input")


@cli.command()
@click.option("-c", "--compressor", "spec", required=True, metavar="SPEC", help="Compressor spec.")
@click.option("--no-verify", is_flag=True,
              help="Skip decoding the stream back before writing it (faster, unchecked).")
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
def encode(spec: str, no_verify: bool, input: Path, output: Path) -> None:
    """Compress INPUT into a self-describing mdlbench stream OUTPUT.

    The stream is decoded back and compared with INPUT before it is written (exit 1, nothing
    written, if it does not give INPUT back). An empty INPUT is refused, as `run` refuses it.
    OUTPUT is never INPUT itself; it is written
    atomically, or streamed into a FIFO or the null device; see README "Bad input".
    """
    from . import api

    data = _input_and_output(input, output)
    if not data:  # as `run` refuses it (datasets/files.py): bits per byte of nothing is no figure
        raise DataError(f"input is empty: {input}")
    blob = api.encode_bytes(spec, data, verify=not no_verify)
    store.atomic_write(output, blob)
    checked = "unverified (--no-verify)" if no_verify else "decoded back and compared"
    bpb = metrics.get("bpb").fmt(8 * len(blob) / len(data))
    err.print(f"{input} ({len(data):,} B) -> {output}: {8 * len(blob):,} bits "
              f"(bpb {bpb}), {checked}", soft_wrap=True,
              markup=False, highlight=False)


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
def decode(input: Path, output: Path) -> None:
    """Restore the original file from an mdlbench stream (the stream names its compressor)."""
    from . import api

    data = api.decode_bytes(_input_and_output(input, output))
    store.atomic_write(output, data)
    err.print(f"{input} -> {output} ({len(data):,} B, length and CRC-32 verified)",
              soft_wrap=True, markup=False, highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure is one line on stderr and a stated exit status (see
    errors.py), never a traceback; a closed standard output ends quietly, as Unix tools do
    (status 141). `argv` (default: the process's arguments) lets tests call
    the CLI in process. MDLBENCH_TRACEBACK=1 shows the traceback of a bug (exit 70)."""
    for stream in (sys.stdout, sys.stderr):  # a file name's undecodable byte prints as \udcff
        with contextlib.suppress(AttributeError, ValueError):  # (strict in a UTF-8 locale)
            stream.reconfigure(errors="backslashreplace")
    try:
        with watching(sigterm=True):
            cli.main(args=argv, prog_name="mdlbench", standalone_mode=False)
            sys.stdout.flush()
            if _reader_gone():
                raise PipeClosed
    except (PipeClosed, BrokenPipeError):
        _pipe_closed()
    except Terminated:
        _fail("terminated", TERMINATED_EXIT)
    except click.exceptions.Abort:
        _fail("interrupted", INTERRUPTED_EXIT)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", INTERRUPTED_EXIT)
    except MdlbenchError as e:
        _fail(str(e), e.exit_code)
    except ModuleNotFoundError as e:
        if e.name not in OPTIONAL:
            _bug(e)
        _fail(f"this needs {e.name}, which is not installed: pip install "
              f"'mdlbench[{OPTIONAL[e.name]}]'", 2)
    except MemoryError:
        _fail("out of memory (the input or a parameter asks for more than this machine has)", 2)
    except OSError as e:  # the environment: a full disk, a vanished folder, a closed pipe
        where = f" ({e.filename})" if e.filename else ""
        _fail(f"{e.strerror or e}{where}", 2)
    except Exception as e:
        _bug(e)


def _pipe_closed() -> NoReturn:
    """Standard output's reader is gone: no message (nobody reads it), status 141 (128 +
    SIGPIPE, what a Unix tool killed by the closed pipe ends with). Standard output now points
    at the null device, so flushing it on the way out raises nothing."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    sys.exit(PIPE_EXIT)


PIPE_EXIT = 141


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it. Python's buffered writer
    can take a partial write to such a pipe as success and drop the rest without an error, so
    the pipe itself is asked (POLLERR on a write end with no reader) before exit 0 claims
    that everything was written."""
    import select
    import stat

    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(ev & select.POLLERR for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no real file (a test's capture)
        return False


def _fail(message: str, code: int) -> NoReturn:
    msg = " ".join(message.split())  # exactly one line, whatever the message held
    try:
        click.echo(f"mdlbench: error: {msg}"
                   if code not in (INTERRUPTED_EXIT, TERMINATED_EXIT) else f"mdlbench: {msg}",
                   err=True)
    except OSError:  # stderr itself is gone (a closed pipe): the status still says it
        pass
    sys.exit(code)


def _bug(e: BaseException) -> NoReturn:
    """An exception no check caught: a bug in mdlbench. One line, unless asked for more."""
    if os.environ.get("MDLBENCH_TRACEBACK"):
        raise e
    _fail(f"internal error, please report it: {type(e).__name__}: {e} (set MDLBENCH_TRACEBACK=1 "
          f"for the traceback)", BUG_EXIT)


if __name__ == "__main__":
    main()
