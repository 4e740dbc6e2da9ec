"""The command line: parse, call mdlbench.api, print. No logic lives here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import MdlbenchError, UsageError
from .results import store


def _console(stderr: bool = False) -> Console:
    """Rich consoles; when piped (no terminal), wide enough that tables are not cut."""
    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=160)


out = _console()
err = _console(stderr=True)

OPTIONAL = {"torch": "torch", "ray": "ray"}
"""Packages of the optional extras (pyproject.toml), by module: a coder that needs a missing one
fails with the install line, not a traceback."""

SPEC_HELP = ("Compressor spec NAME[:key=value,...]; repeatable. Ranges sweep: zstd:level=1..22. "
             "See `mdlbench list` for names and parameters.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mdlbench")
def cli() -> None:
    """Total description length in bits, from real bitstreams.

    Run compressors on datasets (`run`), read the leaderboard (`compare`), gate CI on bit
    counts (`gate`), compress real files (`encode` / `decode`). Every figure is the length of a
    stream that decodes back to the input, in bits; `bits_ideal` (Σ -log2 p) is shown beside it
    for model-based coders.
    """


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(as_json: bool) -> None:
    """Registered compressors (parameters, defaults, library version) and datasets
    (size, source, licence, sha256)."""
    from . import api

    cat = api.catalogue()
    if as_json:
        import json

        click.echo(json.dumps(cat, indent=2))
        return
    t = Table(title="Compressors", title_justify="left")
    for col in ("name", "family", "parameters (default, range)", "version", "summary"):
        t.add_column(col, overflow="fold")
    for c in cat["compressors"]:
        t.add_row(c["name"], c["family"], c["params"], c["version"], c["summary"])
    out.print(t)
    t = Table(title="Datasets", title_justify="left")
    for col in ("name", "kind", "present", "size / parameters", "source, licence", "sha256"):
        t.add_column(col, overflow="fold")
    for d in cat["datasets"]:
        size = f"{d['size']:,} B in {d['files']} file(s)" if "size" in d else d.get("params", "")
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
@click.option("-j", "--jobs", type=int, default=None,
              help="Run cells in N local processes (default: all cores; 1 = in this process, with byte progress).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="ray: run cells as Ray tasks (pip install 'mdlbench[ray]'); GPU cells request a GPU.")
@click.option("--address", help="Ray cluster address (auto, HOST:PORT); default starts a local one.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or per-cell lines.")
def run(datasets: tuple[str, ...], compressors: tuple[str, ...], suite: Path | None,
        results_dir: Path, per_file: bool, chunk_size: int | None, seeds: int, force: bool,
        no_verify: bool, labels: str | None, device: str | None, jobs: int | None,
        executor: str, address: str | None, quiet: bool) -> None:
    """Measure the description length of DATASETS under each compressor.

    DATASETS are shipped names (canterbury, bible), corpora downloaded on first use (enwik8,
    silesia, ...), files by URL (url:https://...,sha256=HEX), synthetic sources with parameters
    (markov:order=2,k=4,n=1e5), or paths. Without -c, the classical line-up runs
    (zlib, bzip2, zstd, brotli, xz, lz4, PPMd, ZPAQ). Each cell compresses, decompresses and
    compares with the input; a mismatch is a failed cell and the exit status is 1.
    """
    from . import api, executors
    from . import suite as suitemod
    from .results.leaderboard import leaderboard
    from .ui import Reporter, RichReporter

    groups: list[Any]
    if suite is not None:
        if datasets or compressors:
            raise UsageError("give either --suite or datasets/-c, not both")
        groups = suitemod.load(suite)
    else:
        if not datasets:
            raise UsageError("no dataset given (try `mdlbench run canterbury`; `mdlbench list` shows all)")
        groups = [suitemod.Group(list(datasets), list(compressors or api.DEFAULT_COMPRESSORS),
                                 per_file, chunk_size, seeds)]
    overrides = {"device": device} if device else None
    records = []
    for g in groups:
        reporter = Reporter() if quiet else RichReporter(err)
        records += api.run(g.datasets, g.compressors, results_dir=results_dir, per_file=g.per_file,
                           chunk_size=g.chunk_size, force=force, seeds=g.seeds,
                           verify=not no_verify, reporter=reporter, labels=labels,
                           overrides=overrides, jobs=jobs or executors.default_jobs(),
                           executor=executor, address=address)
    if not quiet:
        _print_board(leaderboard(records, "bpb"), "bpb", title="This run (bits per input byte)")
        _print_parts(records)
    failed = [r for r in records if r.get("verified") is False]
    if failed:
        err.print(f"[bold red]{len(failed)} cell(s) failed their round trip[/]")
        sys.exit(1)


def _print_parts(records: list[dict[str, Any]]) -> None:
    """Per-file breakdown (bytes), as published Canterbury tables show it."""
    per = [r for r in records if r["dataset"].get("per_file") and r.get("parts")]
    if not per:
        return
    names = list(dict.fromkeys(p["name"] for r in per for p in r["parts"]))
    t = Table(title="Per file (compressed bytes)", title_justify="left")
    t.add_column("compressor", overflow="fold")
    for n in names:
        t.add_column(n, justify="right")
    t.add_column("total", justify="right")
    for r in per:
        sizes = {p["name"]: p["bits"] // 8 for p in r["parts"]}
        t.add_row(r["compressor"]["spec"], *[f"{sizes[n]:,}" if n in sizes else "" for n in names],
                  f"{r['bits'] // 8:,}")
    out.print(t)


def _print_board(table: Any, metric: str, title: str) -> None:
    from .results.leaderboard import fmt_value

    if table.empty:
        out.print("no results")
        return
    t = Table(title=title, title_justify="left")
    t.add_column("compressor", overflow="fold")
    for c in table.columns:
        t.add_column(str(c), justify="right", overflow="fold")
    for name, row in table.iterrows():
        cells = []
        for c in table.columns:
            v = row[c]
            if c in ("encode_MBps", "decode_MBps"):
                cells.append("" if v != v or v is None else f"{v:.3g}")
            elif c == "failed":
                cells.append(f"[red]{v}[/]" if v else "")
            else:
                cells.append(fmt_value(v, metric))
        t.add_row(str(name), *cells)
    out.print(t)


@cli.command()
@click.argument("results", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "md", "csv", "json", "html"]),
              default="table", show_default=True)
@click.option("--metric", type=click.Choice(["bits", "bpb", "ratio", "excess"]), default="bpb",
              show_default=True, help="excess: bits above the source limit (synthetic data).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file (atomically). html defaults to results/leaderboard.html.")
@click.option("--write", is_flag=True, help="Also write the Markdown leaderboard to results/LEADERBOARD.md.")
@click.option("--parts", is_flag=True, help="Per-file compressed bytes of --per-file runs instead.")
def compare(results: tuple[Path, ...], fmt: str, metric: str, output: Path | None, write: bool,
            parts: bool) -> None:
    """Leaderboard of RESULTS (folders or record files; default results/runs): compressors as
    rows, datasets as columns, best first, with encode/decode MB/s."""
    from . import api
    from .results.leaderboard import render

    results = results or (store.DEFAULT_DIR,)
    if parts:
        import pandas as pd

        from .results.leaderboard import parts_table

        table = parts_table(store.load_records([Path(p) for p in results]))
        text = (table.to_csv() if fmt == "csv" else table.to_json(orient="index", indent=2)
                if fmt == "json" else table.map(
                    lambda v: "failed" if pd.isna(v) else f"{int(v):,}").to_markdown() + "\n")
        if output is not None:
            store.atomic_write(output, text)
        else:
            click.echo(text, nl=False)
        return
    if fmt == "html":
        text = api.html_report(results, metric)
        target = output or Path("results/leaderboard.html")
        store.atomic_write(target, text)
        err.print(f"wrote {target}")
        return
    table = api.compare(results, metric)
    if write:
        store.atomic_write(Path("results/LEADERBOARD.md"),
                           f"# Leaderboard ({metric})\n\n" + render(table, "md", metric))
    if fmt == "table" and output is None:
        _print_board(table, metric, title=f"Leaderboard ({metric})")
        return
    text = render(table, "md" if fmt == "table" else fmt, metric)
    if output is not None:
        store.atomic_write(output, text)
        err.print(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("results", nargs=-1, type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["all", "pareto", "learning", "blocks"]), default="all",
              show_default=True, help="pareto: bpb vs encode speed; learning: code length vs data "
              "seen (prequential coders); blocks: block-MDL curves (labelled data).")
@click.option("--dataset", help="Dataset label to plot (pareto needs one when results hold several).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results/plots"), show_default=True,
              help="Folder for the image files.")
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True)
def plot(results: tuple[Path, ...], kind: str, dataset: str | None, out: Path, fmt: str) -> None:
    """Plot RESULTS (default results/runs) as PNG/SVG files."""
    from . import api

    for p in api.plot(results or (store.DEFAULT_DIR,), kind, dataset, out, fmt):
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

    Missing cells and failed round trips fail the gate too. --update rewrites the baseline.
    """
    from . import api

    rep = api.gate(baseline, results or (store.DEFAULT_DIR,), tolerance, update)
    if update:
        out.print(f"baseline {baseline} written: {len(rep)} cells")
        return
    for name, old, new in rep.regressions:
        out.print(f"[red]REGRESSION[/] {name}: {old:,} -> {new:,} bits (+{new - old:,})")
    for name in rep.failed:
        out.print(f"[red]FAILED[/] {name}: round trip failed")
    for name in rep.missing:
        out.print(f"[red]MISSING[/] {name}: in the baseline, not in the results")
    for name, old, new in rep.improvements:
        out.print(f"[green]better[/] {name}: {old:,} -> {new:,} bits ({new - old:,})")
    for name in rep.new:
        out.print(f"[dim]new[/] {name} (not in the baseline)")
    n = len(rep.regressions) + len(rep.failed) + len(rep.missing)
    if not rep.ok:
        out.print(f"[bold red]gate failed[/]: {n} problem(s); {rep.unchanged} cell(s) unchanged")
        sys.exit(1)
    out.print(f"[bold green]gate passed[/]: {rep.unchanged} unchanged, {len(rep.improvements)} better")


@cli.command()
@click.option("-c", "--compressor", "spec", required=True, metavar="SPEC", help="Compressor spec.")
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
def encode(spec: str, input: Path, output: Path) -> None:
    """Compress INPUT into a self-describing mdlbench stream OUTPUT."""
    from . import api
    from .datasets.files import read_file

    if not input.exists():
        raise UsageError(f"no such file: {input}")
    data = read_file(input)
    blob = api.encode_bytes(spec, data)
    store.atomic_write(output, blob)
    err.print(f"{input} ({len(data):,} B) -> {output}: {8 * len(blob):,} bits "
              f"({8 * len(blob) / max(len(data), 1):.4f} bpb)")


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
def decode(input: Path, output: Path) -> None:
    """Restore the original file from an mdlbench stream (the stream names its compressor)."""
    from . import api
    from .datasets.files import read_file

    if not input.exists():
        raise UsageError(f"no such file: {input}")
    data = api.decode_bytes(read_file(input))
    store.atomic_write(output, data)
    err.print(f"{input} -> {output} ({len(data):,} B, length and CRC-32 verified)")


def main() -> None:
    """Entry point: user errors become one line on stderr and a non-zero exit, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except MdlbenchError as e:
        msg = " ".join(str(e).split())  # exactly one line, whatever the message held
        click.echo(f"mdlbench: error: {msg}", err=True)
        sys.exit(e.exit_code)
    except ModuleNotFoundError as e:
        if e.name not in OPTIONAL:
            raise
        click.echo(f"mdlbench: error: this needs {e.name}, which is not installed: "
                   f"pip install 'mdlbench[{OPTIONAL[e.name]}]'", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
