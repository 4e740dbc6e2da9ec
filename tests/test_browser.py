"""The HTML report as a visitor sees it: rendered by a real Chromium (Debian's, driven by
Playwright), sorted by clicking, and laid out on a phone's 390 px without sideways scrolling.

Needs `apt-get install chromium` (the browser is never downloaded: `playwright install` cannot
reach its servers here); skipped when no Chromium is found, unless MDLBENCH_REQUIRE_BROWSER is
set (CI sets it, so there the test runs or fails)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mdlbench

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DATASETS = ["markov:n=4000", "canterbury:head=20000"]
CODECS = ["zlib:level=1", "zlib:level=9", "bz2", "lz4", "xz:preset=6"]


def _chromium() -> str | None:
    for path in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if path and Path(path).exists():
            return path
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path, int], Any]]:
    """open(page_file, width) -> a Playwright page in a new Chromium with a fresh user-data
    dir; below 600 px it is a phone (mobile viewport, touch, 3x pixels)."""
    required = bool(os.environ.get("MDLBENCH_REQUIRE_BROWSER"))
    exe = _chromium()
    if exe is None:
        if required:
            pytest.fail("MDLBENCH_REQUIRE_BROWSER is set but no Chromium is installed "
                        "(apt-get install chromium)")
        pytest.skip("no Chromium (apt-get install chromium)")
    if required:
        from playwright.sync_api import sync_playwright
    else:
        sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    contexts = []
    with sync_playwright() as p:
        def open_page(page_file: Path, width: int) -> Any:
            phone = width < 600
            context = p.chromium.launch_persistent_context(
                str(tmp_path_factory.mktemp("chromium-profile")), executable_path=exe,
                args=FLAGS, headless=True, viewport={"width": width, "height": 900},
                is_mobile=phone, has_touch=phone, device_scale_factor=3 if phone else 1)
            contexts.append(context)
            page = context.new_page()
            page.goto(page_file.as_uri())
            return page

        try:
            yield open_page
        finally:
            for c in contexts:
                c.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A page of two datasets: one with a source limit, one text."""
    tmp = tmp_path_factory.mktemp("report")
    recs = mdlbench.run(DATASETS, CODECS, results_dir=None, progress=False)
    page = tmp / "report.html"
    page.write_text(mdlbench.html_report(recs))
    return page


def _column(page: Any, section: str, index: int) -> list[tuple[str, str | None]]:
    """(row name, the cell's data-v) of one column of a dataset's table, in page order."""
    return page.eval_on_selector_all(
        f"section#{section} table.sortable tbody tr",
        f"rows => rows.map(r => [r.cells[0].textContent, r.cells[{index}].getAttribute('data-v')])")


def _header_index(page: Any, section: str, name: str) -> int:
    heads = page.eval_on_selector_all(f"section#{section} table.sortable thead th",
                                      "hs => hs.map(h => h.textContent)")
    return heads.index(name)


def test_sorting_by_a_column_in_chromium(browser, report):
    page = browser(report, 1280)
    section = "ds-markov-n-4000"
    before = _column(page, section, _header_index(page, section, "bits"))
    assert before[0][0] == "(source limit)"  # the bound, on top
    bits = [float(v) for _, v in before[1:]]
    assert bits == sorted(bits)  # best first as written
    speed = _header_index(page, section, "encode MB/s")
    button = page.locator(f"section#{section} thead th >> nth={speed}").locator("button")
    button.click()
    up = _column(page, section, speed)
    assert up[0][0] == "(source limit)"
    speeds = [float(v) for _, v in up[1:]]
    assert speeds == sorted(speeds) and len(set(speeds)) > 1
    assert page.locator(f"section#{section} thead th >> nth={speed}").get_attribute(
        "aria-sort") == "ascending"
    button.click()
    down = [float(v) for _, v in _column(page, section, speed)[1:]]
    assert down == sorted(speeds, reverse=True)
    name = page.locator(f"section#{section} thead th >> nth=0").locator("button")
    name.click()
    names = [n for n, _ in _column(page, section, 0)[1:]]
    assert names == sorted(names, key=str.lower)
    other = "ds-canterbury-head-20000"  # the other table did not move
    kept = [float(v) for _, v in _column(page, other, _header_index(page, other, "bits"))]
    assert kept == sorted(kept)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_page_never_scrolls_sideways(browser, report, tmp_path, width):
    page = browser(report, width)
    doc = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert doc[0] <= doc[1] == width
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('td')).fontSize)")
    assert font >= 12  # laid out at the phone's width, not scaled down from a desktop one
    boxes = page.eval_on_selector_all(".scroll", "ss => ss.map(s => s.getBoundingClientRect().right)")
    assert boxes and max(boxes) <= width  # wide tables scroll inside their own box
    figs = page.eval_on_selector_all(
        "figure", "fs => fs.map(f => [f.getBoundingClientRect().right, "
        "f.querySelector('svg').getBoundingClientRect().width])")
    assert len(figs) == len(DATASETS)
    for right, svg in figs:  # a plot keeps a readable size, scrolling in its box on a phone
        assert right <= width and svg >= min(480, 0.4 * width)
    page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    assert (tmp_path / f"report-{width}.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A page of 45+ settings of every classical codec, run on 600 bytes (test_codec_plots)."""
    from test_codec_plots import TINY, lineup

    recs = mdlbench.run([TINY], lineup(), results_dir=None, progress=False, repeat=1)
    page = tmp_path_factory.mktemp("wide") / "wide.html"
    page.write_text(mdlbench.html_report(recs))
    return page


WIDE = "ds-bible-head-600"


def _shown(page: Any) -> list[tuple[str, str, str]]:
    """(row, family, Pareto front) of the rows shown, in page order."""
    return page.eval_on_selector_all(
        f"section#{WIDE} table.sortable tbody tr",
        "rows => rows.filter(r => !r.hidden && r.offsetParent !== null).map(r => "
        "[r.cells[0].textContent, r.cells[1].textContent, r.cells[2].textContent])")


def test_family_filters_and_the_front_toggle_in_chromium(browser, wide_report):
    page = browser(wide_report, 1280)
    rows = _shown(page)
    assert len(rows) >= 45 and {f for _, f, _ in rows} >= {"deflate", "LZ", "zstd", "BWT"}
    swatches = page.eval_on_selector_all(
        f"section#{WIDE} tbody td .swatch", "ss => ss.map(s => getComputedStyle(s).backgroundColor)")
    assert len(swatches) == len(rows) and len(set(swatches)) >= 7  # a chip of its family's colour
    deflate = page.locator(f"section#{WIDE} .filters input[value=deflate]")
    deflate.uncheck()
    without = _shown(page)
    assert {f for _, f, _ in without} == {f for _, f, _ in rows} - {"deflate"}
    assert len(without) == len(rows) - sum(f == "deflate" for _, f, _ in rows)
    counter = page.locator(f"section#{WIDE} output.shown").text_content()
    assert counter == f"{len(without)} of {len(rows)} rows shown"
    deflate.check()
    assert _shown(page) == rows
    page.locator(f"section#{WIDE} .filters input[name=front]").check()
    front = _shown(page)
    assert 2 <= len(front) < len(rows) // 2
    assert {p for _, _, p in front} == {"yes", "speed limit"}  # the front, and copy beside it
    assert sorted(front) == sorted(r for r in rows if r[2])
    speed = _header_index(page, WIDE, "encode MB/s")
    page.locator(f"section#{WIDE} thead th >> nth={speed}").locator("button").click()
    assert sorted(_shown(page)) == sorted(front)  # sorting keeps the filter
    speeds = [float(v) for _, v in _column(page, WIDE, speed) if v is not None]
    assert speeds == sorted(speeds)
    page.locator(f"section#{WIDE} .filters input[name=front]").uncheck()
    assert sorted(_shown(page)) == sorted(rows)


def test_the_wide_board_fits_a_phone(browser, wide_report, tmp_path):
    page = browser(wide_report, 390)
    doc = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert doc[0] <= doc[1] == 390
    bar = page.eval_on_selector(f"section#{WIDE} .filters",
                                "b => [b.getBoundingClientRect().right, b.scrollWidth, "
                                "b.clientWidth]")
    assert bar[0] <= 390 and bar[1] <= bar[2]  # the chips wrap, nothing hidden sideways
    page.screenshot(path=str(tmp_path / "wide-390.png"), full_page=True)
