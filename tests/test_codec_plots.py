"""The Pareto plot and the HTML board at lzbench breadth: 45+ settings of every classical codec,
from real runs on a few hundred bytes (the README's codec line-up, suites/bench/codecs.toml,
with every installed classical codec at its defaults): a colour per codec family, one line per
codec's levels, labels that do not overlap, and a board with a family column, family filters
and a Pareto-front toggle (the toggle's script runs in tests/test_browser.py)."""

from __future__ import annotations

import platform
import re
import zlib
from collections import Counter
from pathlib import Path

import pytest
import tomllib
from matplotlib.colors import to_hex

import mdlbench
from mdlbench import spec
from mdlbench.compressors import lookup
from mdlbench.errors import UsageError
from mdlbench.results import groups, html, metrics, plots
from mdlbench.results.record import Record, latest

ROOT = Path(__file__).resolve().parents[1]
TINY = "bible:head=600"


def lineup() -> list[str]:
    """The README's codec table line-up on the Bible, then every classical codec's defaults."""
    suite = tomllib.loads((ROOT / "suites" / "bench" / "codecs.toml").read_text())
    bible = next(g for g in suite["group"] if g["datasets"] == ["bible"])
    return [*bible["compressors"], *map(str, lookup.family("classical")), "kt"]


@pytest.fixture(scope="module")
def wide() -> list[Record]:
    recs = latest(mdlbench.run([TINY], lineup(), results_dir=None, progress=False, repeat=1))
    assert len(recs) >= 45 and all(r.verified for r in recs)  # "zstd" twice is one cell
    return recs


@pytest.fixture(scope="module")
def figure(wide: list[Record]):
    return plots.make(wide, "pareto", TINY)


def test_every_codec_has_a_family_by_name_or_by_its_record():
    assert groups.of("libdeflate", "classical") == "deflate"
    assert groups.of("lz4-block", "classical") == "LZ" and groups.of("kanzi") == "BWT"
    assert groups.of("kt", "statistical") == "PPM/CM" and groups.of("lstm", "neural") == "neural"
    assert groups.of("someplugin", "statistical") == "PPM/CM"  # not listed: by its family
    assert groups.of("someplugin", "variational") == "variational"
    assert groups.of("someplugin") == "other"
    spare = groups.colours(["zstd", "variational", "prequential"])
    assert spare["zstd"] == groups.COLOURS["zstd"] and len(set(spare.values())) == 3
    assert groups.ordered(["variational", "zstd", "copy"]) == ["copy", "zstd", "variational"]


def _texts(fig) -> list:
    return [t for t in fig.axes[0].texts if t.get_text() and not t.get_text().startswith("hollow")]


def test_pareto_at_45_codecs_colours_families_and_joins_levels(wide, figure):
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    points = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 1]
    coders = [r for r in wide if r.compressor.name != "copy"]
    assert len(points) == len({r.row for r in coders})
    want = {to_hex(groups.COLOURS[groups.of(r.compressor.name, r.compressor.family)])
            for r in coders}
    assert {to_hex(p.get_color()) for p in points} == want  # one colour per family, not codec
    assert len(want) == len({groups.of(r.compressor.name) for r in coders}) >= 7
    levels = sorted(r.encode_MBps for r in coders if r.compressor.name == "zstd"
                    and {k for k, _ in spec.parse(r.row).params} <= plots.LEVELS)
    lines = {tuple(ln.get_xdata()) for ln in ax.get_lines() if len(ln.get_xdata()) > 1}
    assert len(levels) >= 6 and tuple(levels) in lines  # zstd -5..22: one line, by speed
    long = [r.encode_MBps for r in coders if r.row == "zstd:level=19,long=27"]
    assert not any(long[0] in ln and len(ln) > 1 for ln in lines)  # another window: no line
    (copy,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("copy")]
    assert copy.get_xdata()[0] == copy.get_xdata()[1]  # the speed limit: a vertical line
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "deflate: isal, libdeflate, zlib, zlib-ng, zopfli" in legend and "zstd" in legend


def test_pareto_labels_the_front_and_each_codec_once_without_overlap(wide, figure):
    fig = figure
    texts = _texts(fig)
    names = [t.get_text() for t in texts]
    front = plots.front(wide, TINY)
    assert [n for n, t in zip(names, texts, strict=True) if t.get_fontweight() == "bold"] == front
    by_codec = Counter(n.split(":")[0] for n in names if n not in front)
    codecs = {r.compressor.name for r in wide} - {"copy"}
    on_front = {f.split(":")[0] for f in front}
    assert set(by_codec) == codecs - on_front and max(by_codec.values()) == 1
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    overlaps = [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
                if ba.overlaps(bb)]
    assert overlaps == []
    inside = fig.axes[0].get_window_extent(renderer).expanded(1.002, 1.002)  # a pixel's play
    assert [n for n, b in boxes if not inside.contains(b.x0, b.y0)
            or not inside.contains(b.x1, b.y1)] == []  # no label cut off at the axes' edge
    legend = fig.axes[0].get_legend().get_window_extent(renderer)
    assert legend.x0 >= inside.x1 and not any(legend.overlaps(b) for _, b in boxes)
    assert fig.get_size_inches()[0] >= 12


def test_pareto_front_is_each_row_better_than_every_faster_one(wide):
    front = plots.front(wide, TINY)
    rows = {r.row: r for r in wide if r.compressor.name != "copy"}
    assert "copy" not in front and len(front) >= 2
    speeds = [rows[f].encode_MBps for f in front]
    bpb = [rows[f].bpb for f in front]
    assert speeds == sorted(speeds, reverse=True) and bpb == sorted(bpb, reverse=True)
    assert len(set(bpb)) == len(bpb)
    for r in rows.values():  # off the front: something at least as fast codes it shorter
        dominated = any(rows[f].encode_MBps >= r.encode_MBps and rows[f].bpb <= r.bpb
                        for f in front)
        assert dominated or r.row in front


def test_board_has_a_family_column_filters_and_the_front(wide):
    table = html.board_table(wide, TINY)
    assert list(table.columns[:2]) == [html.FAMILY, html.FRONT]
    assert table.loc["libdeflate:level=12", html.FAMILY] == "deflate"
    assert table.loc["copy", html.FRONT] == html.SPEED_LIMIT
    assert sorted(table.index[table[html.FRONT] == html.ON_FRONT]) == sorted(
        plots.front(wide, TINY))
    page = mdlbench.html_report(wide)
    bar = re.search(r'<div class="filters".*?</div>', page, re.S).group(0)
    chips = re.findall(r'name="family" value="([^"]+)" checked><span class="swatch" '
                       r'style="background:(#[0-9a-f]{6})"></span>[^<]*<small>\((\d+)\)', bar)
    fams = Counter(table[html.FAMILY])
    assert [c for c, _, _ in chips] == groups.ordered(fams)
    assert {c: int(n) for c, _, n in chips} == dict(fams)
    assert all(colour == groups.COLOURS[c] for c, colour, _ in chips)
    assert 'name="front"' in bar and "Pareto front only" in bar
    assert ">family</button>" in page and ">Pareto front</button>" in page
    wide = page[page.index('<div class="plots wide">'):]  # the plot below the table, full width
    assert wide.startswith('<div class="plots wide"><figure><svg') and "bpb vs encode" in wide


def test_the_dataset_view_is_an_lzbench_table_with_copy_on_top(wide):
    """`compare --view dataset`: one dataset in full, the memcpy line first, then by size."""
    table = mdlbench.table(wide, "dataset")
    assert list(table.index[:1]) == ["copy"]
    assert {"bytes", "ratio", "encode MB/s", "decode MB/s", "decode/encode", "library"} <= set(
        table.columns)
    sizes = list(table["bytes"].iloc[1:])
    assert sizes == sorted(sizes)
    rec = next(r for r in wide if r.row == "zstd:level=19")
    row = table.loc["zstd:level=19"]
    assert row["decode/encode"] == pytest.approx(metrics.value("decode_MBps", rec)
                                                  / metrics.value("encode_MBps", rec))
    text = mdlbench.report(wide, "dataset", "md")
    assert text.splitlines()[-len(table):][0].startswith("| copy |")
    by_row = {r.row: r for r in wide}
    assert (by_row["zlib"].compressor.library, by_row["zlib"].compressor.version) == (
        "zlib", zlib.ZLIB_RUNTIME_VERSION)
    assert by_row["bz2"].compressor.version == f"python {platform.python_version()}"
    with pytest.raises(UsageError, match=r"--view dataset shows one dataset, and \d+ match"):
        mdlbench.table(ROOT / "results" / "readme", "dataset")


def test_the_command_line_offers_every_view():
    from mdlbench import cli
    from mdlbench.results import leaderboard

    view = next(o for o in cli.compare.params if o.name == "view")
    assert tuple(view.type.choices) == leaderboard.VIEWS
