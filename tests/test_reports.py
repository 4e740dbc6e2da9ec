"""What people read: the HTML report (one section per dataset, its figures and marks, machine
and versions), the per-dataset table, compare's filters and sort, `run --format json`, and the
plots (x axis, units, source limit, labels that do not overlap, learning curves of any coder).
The committed records of results/readme are the input where no run is needed."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
from pathlib import Path

import pytest

import mdlbench
from mdlbench.errors import UsageError
from mdlbench.results import leaderboard as lb
from mdlbench.results import plots
from mdlbench.results.record import FAILED, Record
from mdlbench.results.store import load_records

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "results" / "readme"
TWO = ["bible", "markov:n=*"]


@pytest.fixture(scope="module")
def readme() -> list[Record]:
    return load_records([README])


@pytest.fixture(scope="module")
def with_failed(readme) -> list[Record]:
    """The committed records with ppmd:mem=256's Canterbury cell turned into one whose stream
    did not decode back: every committed cell round-trips, so the failure is made here."""
    return [dataclasses.replace(r, status=FAILED)
            if r.dataset.label == "canterbury/per-file" and r.compressor.spec == "ppmd:mem=256"
            else r for r in readme]


def test_html_is_one_section_per_dataset_without_a_mean_rank(readme):
    page = mdlbench.html_report(readme, dataset=TWO)
    assert re.findall(r'<section id="(ds-[^"]+)"', page) == ["ds-bible", "ds-markov-n-200000"]
    assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in page
    assert "<script>" in page and "<link" not in page and "src=" not in page
    assert 'id="mean-rank"' not in page
    assert 'id="mean-rank"' in mdlbench.html_report(readme, dataset=TWO, mean_rank=True)
    heads = re.findall(r'<th scope="col" class="[^"]*"><button type="button">([^<]*)</button>',
                       page)
    for h in ("bytes", "ratio", "bits", "bits per byte", "Σ -log2 p", "encode MB/s", "decode MB/s",
              "runs", "library", "notes"):
        assert h in heads
    figures = re.findall(r"<figure>.*?</figure>", page, re.S)
    assert len(figures) == 4  # pareto and learning curves (mix, kt: per-segment bits) of each
    numbers = re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)</td>', page)
    assert numbers and not [n for n in numbers if re.search(r"\de[+-]?\d", n)]  # no 1.2e+03
    assert "fastest of 1 to 5 timed run(s)" in page


def test_html_names_the_machine_and_library_versions(readme):
    page = mdlbench.html_report(readme, dataset=TWO)
    machine = page[page.index("<section id='machine'>"):]
    env = readme[0].reproducibility
    assert env["cpu"] in machine and f"Python</dt><dd>{env['python']}" in machine
    for name, version in env["packages"].items():
        assert f"{name} {version}" in machine
    assert ">zstandard 0.25.0</td>" in page  # each row's own library


def test_html_marks_failed_cells_and_counts_labels_not_bytes(readme, with_failed):
    assert 'class="num failed">' not in mdlbench.html_report(readme, dataset="canterbury/per-file")
    page = mdlbench.html_report(with_failed, dataset=["canterbury/per-file", "digits"])
    assert 'class="num failed">failed</td>' in page and "only 10 of" not in page
    assert "failed: the stream did not decode back" in page
    digits = page[page.index('id="ds-digits"'):]
    assert ">bits per label</button>" in digits and "1,797 labels" in digits
    assert "bits per label" in plots.to_svg(plots.make(readme, "pareto", "digits"))


def test_dataset_table_sizes_ratio_and_the_limit_first(readme, with_failed):
    table = lb.dataset_table(readme, "markov:n=200000")
    assert list(table.index)[0] == lb.LIMIT_ROW
    bits = table["bits"].iloc[1:]
    assert list(bits) == sorted(bits)
    rec = next(r for r in readme if r.dataset.label == "markov:n=200000"
               and r.compressor.spec == "kt")
    row = table.loc["kt"]
    assert row["bytes"] == math.ceil(rec.bits / 8) and row["bits"] == rec.bits
    assert row["ratio"] == pytest.approx(8 * rec.dataset.size / rec.bits)
    assert row["bits per symbol"] == pytest.approx(rec.bpb) and row["Σ -log2 p"] == rec.bits_ideal
    assert table.loc[lb.LIMIT_ROW, "bits"] == rec.dataset.limit_bits
    failed = lb.dataset_table(with_failed, "canterbury/per-file")
    assert failed.index[-1] == "ppmd:mem=256" and math.isnan(failed["bits"].iloc[-1])
    assert failed.attrs["marks"][("ppmd:mem=256", "bits")] == "failed"


def test_compare_filters_and_sorts(readme, with_failed):
    board = mdlbench.compare(readme, dataset=TWO, sort="encode_MBps")
    assert set(board.columns) >= {"bible", "markov:n=200000"}
    assert "digits" not in board.columns and board.index[0] == lb.LIMIT_ROW
    speeds = board["encode_MBps"].iloc[1:].dropna()
    assert list(speeds) == sorted(speeds, reverse=True)  # fastest first
    kt = mdlbench.compare(readme, dataset="markov:n=*", compressor=["kt*"], sort="markov:n=*")
    formulas = [lb.LIMIT_ROW, "(NML)", "(NML, Fisher asymptotic)"]  # pinned above the coders
    assert list(kt.index) == formulas + ["kt", "kt:order=3", "kt:order=1", "kt:order=0"]
    per_file = mdlbench.compare(with_failed, dataset="canterbury/per-file", sort="canterbury*")
    assert per_file.index[-1] == "ppmd:mem=256"  # a failed cell has no figure: last
    with pytest.raises(UsageError, match=r"no results match --dataset nope \(there are: "):
        mdlbench.compare(readme, dataset="nope")
    with pytest.raises(UsageError, match="no such column"):
        mdlbench.compare(readme, sort="nope")
    full = mdlbench.table(readme, "dataset", dataset="bible", sort="encode_MBps")  # a metric's
    speeds = full["encode MB/s"].iloc[1:].dropna()  # name sorts by its column in every view
    assert len(speeds) > 2 and list(speeds) == sorted(speeds, reverse=True)
    with pytest.raises(UsageError, match="several columns"):
        mdlbench.compare(readme, dataset=TWO, sort="*MBps")


def test_compare_options_on_the_command_line(mdl):
    p = mdl("compare", str(README), "--dataset", "markov:n=*", "--compressor", "kt*",
            "--compressor", "zpaq", "--sort", "markov:n=*", "--format", "csv")
    assert p.code == 0, p.err
    rows = [row[0] for row in csv.reader(p.out.splitlines()[1:])]
    assert rows == [lb.LIMIT_ROW, "(NML)", "(NML, Fisher asymptotic)", "kt", "kt:order=3",
                    "zpaq", "kt:order=1", "kt:order=0"]
    p = mdl("compare", str(README), "--dataset", "nope")
    assert p.code == 2 and p.err.startswith("mdlbench: error: no results match --dataset nope")
    p = mdl("compare", str(README), "--sort", "nope")
    assert p.code == 2 and "cannot sort by 'nope'" in p.err and len(p.err.splitlines()) == 1


def test_html_from_the_command_line(mdl, tmp_path):
    out = tmp_path / "two.html"
    p = mdl("compare", str(README), "--dataset", "bible", "--dataset", "markov:n=*", "--format",
            "html", "-o", str(out))
    assert p.code == 0, p.err
    assert out.read_text().count('<section id="ds-') == 2


def test_run_format_json_prints_the_records(mdl, tmp_path):
    p = mdl("run", "iid:n=2000", "-c", "zlib", "-c", "bz2", "--results", str(tmp_path),
            "--format", "json")
    assert p.code == 0, p.err
    docs = json.loads(p.out)  # stdout is the JSON and nothing else
    recs = [Record.from_dict(d) for d in docs]
    assert [r.compressor.spec for r in recs] == ["zlib", "bz2"]
    stored = {r.key: r.bits for r in load_records([tmp_path])}
    assert {r.key: r.bits for r in recs} == stored and all(r.verified for r in recs)


def _xy(fig) -> set[tuple[float, float]]:
    """The plotted points (single-marker lines) of a figure's first axes."""
    return {(float(ln.get_xdata()[0]), float(ln.get_ydata()[0]))
            for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) == 1}


def test_pareto_x_axis_unit_and_source_limit(readme):
    bible = [r for r in readme if r.dataset.label == "bible" and r.has_bits]
    for x in ("encode", "decode"):
        fig = mdlbench.plot(readme, "pareto", "bible", x=x)
        speeds = {(round(getattr(r, f"{x}_MBps"), 9), round(r.bpb, 9)) for r in bible}
        assert {(round(a, 9), round(b, 9)) for a, b in _xy(fig)} == speeds
        assert fig.axes[0].get_xlabel().startswith(f"{x} speed")
        assert fig.axes[0].get_ylabel() == "bpb (bits per byte)"
    with pytest.raises(UsageError, match="unknown x axis"):
        mdlbench.plot(readme, "pareto", "bible", x="memory")
    fig = mdlbench.plot(readme, "pareto", "markov:n=200000")
    (limit,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "source limit"]
    info = next(r.dataset for r in readme if r.dataset.label == "markov:n=200000")
    assert limit.get_ydata()[0] == pytest.approx(info.limit_bits / info.size)


def _overlaps(fig, texts) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
            if ba.overlaps(bb)]


def _twin(rec: Record, spec: str) -> Record:
    """A record a hair from `rec` on both axes (16 bits longer, 1 % faster): both on the front."""
    doc = rec.to_dict()
    doc["compressor"] = {**doc["compressor"], "spec": spec}
    doc["bits"] += 16
    doc["key"] = "twin"
    doc["timing"]["encode"]["min_s"] /= 1.01
    doc["encode_MBps"] *= 1.01
    return Record.from_dict(doc)


def test_pareto_labels_do_not_overlap(readme):
    """Two coders almost on one point of the front: labels written at their points overlap;
    the plot's do not."""
    kt = next(r for r in readme if r.dataset.label == "hmm:n=200000" and r.compressor.spec == "kt")
    recs = [*readme, _twin(kt, "kt:alpha=0.49")]
    fig = mdlbench.plot(recs, "pareto", "hmm:n=200000")
    labels = [t for t in fig.axes[0].texts if t.get_text() != ""]
    assert {"kt", "kt:alpha=0.49"} <= {t.get_text() for t in labels}
    assert _overlaps(fig, labels) == []
    naive, ax = plots._figure(8, 5.5)
    ax.set_xscale("log")
    ax.set_xlim(*fig.axes[0].get_xlim())
    ax.set_ylim(*fig.axes[0].get_ylim())
    where = {r.compressor.spec: (r.encode_MBps, r.bpb) for r in recs
             if r.dataset.label == "hmm:n=200000"}
    at_points = [ax.text(*where[t.get_text()], t.get_text(), fontsize=7) for t in labels]
    assert _overlaps(naive, at_points)  # the case the test is about exists


def test_learning_curves_for_any_coder_with_segments(readme):
    """Any record with per-segment bits gets a curve: here a kt record given the segments kt's
    coder will report (the same format as the neural coders')."""
    kt = next(r for r in readme if r.dataset.label == "markov:n=200000"
              and r.compressor.spec == "kt:order=3")
    half = kt.dataset.size // 2
    segs = [{"bytes": half, "bits": kt.bits_ideal * 0.6},
            {"bytes": kt.dataset.size - half, "bits": kt.bits_ideal * 0.4}]
    with_segments = dataclasses.replace(kt, extras={**kt.extras, "segments": segs})
    recs = [r for r in readme if r is not kt] + [with_segments]
    assert ("learning", "markov:n=200000") in plots.available(recs)
    fig = mdlbench.plot(recs, "learning", "markov:n=200000")
    (curve,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "kt:order=3"]
    assert curve.get_ydata()[-1] == pytest.approx(kt.bits_ideal / kt.dataset.size)
    assert [ln.get_label() for ln in fig.axes[0].get_lines()].count("source limit") == 1
    assert fig.axes[0].get_ylabel().startswith("cumulative bits per symbol")


def test_plot_returns_figures_and_the_cli_writes_files(readme, mdl, tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figs = mdlbench.figures(readme)
    assert {"pareto-bible", "learning-bible", "pareto-digits", "blocks-digits"} <= set(figs)
    assert plt.get_fignums() == before  # no pyplot state: nothing shown behind the caller's back
    p = mdl("plot", str(README / "bible"), "--kind", "pareto", "--x", "decode", "--out",
            str(tmp_path), "--format", "svg")
    assert p.code == 0, p.err
    assert "decode speed" in (tmp_path / "pareto-bible-decode.svg").read_text()


def test_speeds_never_print_an_exponent():
    from mdlbench.results.tables import fmt

    shown = {v: fmt(v, "speed") for v in (1234.5, 12.345, 0.26, 0.000851, 0.0000123)}
    assert shown == {1234.5: "1,234", 12.345: "12.3", 0.26: "0.26", 0.000851: "0.000851",
                     0.0000123: "0.0000123"}


ODD_NAMES = ["pipe|name.txt", "new\nline.txt", "com,ma.txt", "quo\"te's.txt", "<b>tag&.txt",
             "[red]rich.txt"]


def _table_lines(md: str) -> list[str]:
    return [ln for ln in md.splitlines() if ln.startswith("|")]


def _cells(line: str) -> int:
    """The cells of a Markdown table row: its unescaped `|`, less one."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_odd_file_names_are_escaped_in_every_format(tmp_path, mdl, monkeypatch):
    """File names holding a newline, `|`, a comma, quotes or markup are file names like any
    other: one cell in Markdown, one field in CSV, text (not markup) in HTML and on the
    terminal, a string in JSON."""
    data = tmp_path / "data"
    data.mkdir()
    for i, name in enumerate(ODD_NAMES):
        (data / name).write_bytes(b"odd " * (100 + i))
    runs = tmp_path / "runs"
    mdlbench.run([str(data / n) for n in ODD_NAMES], ["zlib"], results_dir=runs)
    mdlbench.run([str(data)], ["zlib"], per_file=True, results_dir=runs)
    labels = sorted({r.dataset.label for r in load_records([runs])})
    for view in ("board", "cells", "parts"):
        md = mdl("compare", str(runs), "--view", view, "--format", "md").out
        rows = _table_lines(md)
        assert len({_cells(r) for r in rows}) == 1, (view, md)  # every row as wide as the head
        expected = {"board": 3, "cells": len(ODD_NAMES) + 3, "parts": 3}[view]  # head, rule
        assert len(rows) == expected, (view, md)  # no row broken by a newline
        assert "<b>" not in md and (view == "board" or "&lt;b&gt;tag&amp;.txt" in md), md
        out = mdl("compare", str(runs), "--view", view, "--format", "csv").out
        parsed = list(csv.reader(out.splitlines(keepends=True)))
        fields = {f for row in parsed for f in row}
        if view == "board":
            assert set(labels) <= fields
        elif view == "parts":
            assert set(ODD_NAMES) <= fields
        json.loads(mdl("compare", str(runs), "--view", view, "--format", "json").out)
    base = tmp_path / "base.json"
    cells = mdlbench.gate(base, [runs], update=True)
    base.write_text(json.dumps({"schema": 1, "cells": {k: v + 8 for k, v in cells.items()}}))
    p = mdl("gate", "--baseline", str(base), "--results", str(runs))
    assert p.code == 0 and "[red]rich.txt" in p.out.replace("\n", "")
    from rich.console import Console

    from mdlbench import cli

    monkeypatch.setattr(cli, "out", Console(file=io.StringIO(), width=5000))
    cli._print_table(mdlbench.compare([runs]), "board")
    shown = cli.out.file.getvalue()
    assert all(label in shown for label in labels if "\n" not in label)
    page = mdlbench.html_report([runs])
    assert "<b>" not in page and "&lt;b&gt;tag&amp;.txt" in page
    assert page.count('<section id="ds-') == len(labels)
