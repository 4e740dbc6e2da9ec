"""The README's tour runs as written: every command of its block that is not marked slow, in a
fresh folder, in order, through the console entry point in this process."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import mdlbench

ROOT = Path(__file__).resolve().parents[1]


def tour() -> list[tuple[list[str], bool]]:
    """(argv without the program name, marked slow) for each command of the tour's block."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## A short tour\n.*?```sh\n(.*?)```", text, re.S)
    assert block, "README.md has no tour block"
    commands = []
    for line in block.group(1).splitlines():
        slow = "(slow:" in line
        words = shlex.split(line, comments=True)
        while words:  # `a && b` is two commands
            cut = words.index("&&") if "&&" in words else len(words)
            assert words[0] == "mdlbench", line
            commands.append((words[1:cut], slow))
            words = words[cut + 1:]
    return commands


def test_the_tour_marks_its_long_commands():
    commands = tour()
    slow = {" ".join(c) for c, s in commands if s}
    assert len(commands) > 15 and len(slow) >= 5
    assert any("lstm" in c for c in slow) and "run canterbury --per-file" in slow


def test_the_tours_quick_commands_run_as_written(mdl, tmp_path, monkeypatch):
    for name in ("datasets", "suites"):  # what the tour reads from the repository's folder
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    ran = 0
    for argv, slow in tour():
        if slow:
            continue
        p = mdl(*argv)
        assert p.code == 0, f"`mdlbench {' '.join(argv)}` failed: {p.err}"
        ran += 1
    assert ran >= 10
    assert (tmp_path / "alice.out").read_bytes() == (ROOT / "datasets/canterbury/alice29.txt").read_bytes()
    assert (tmp_path / "results" / "plots" / "pareto-canterbury_per_file-decode.png").exists()
    assert (tmp_path / "results" / "leaderboard.html").exists()


def test_the_python_example_runs_as_written(tmp_path, monkeypatch):
    """The README's Python block, run in a fresh folder (a notebook would show each value)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"\*\*From Python\*\*.*?```python\n(.*?)```", text, re.S)
    assert block, "README.md has no Python example"
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(block.group(1), "README.md", "exec"), scope)  # noqa: S102
    assert scope["html"].startswith("<!doctype html>")
    assert type(scope["fig"]).__name__ == "Figure"
    assert {r.dataset.label for r in scope["recs"]} == {"canterbury", "markov:n=20000"}


def test_the_result_tables_are_what_the_tool_prints_from_the_committed_records():
    """Every measured table of the README sits under the `mdlbench compare` command that prints
    it (scripts/readme_tables.py); none may differ from that command's output today."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_tables",
                                                  ROOT / "scripts" / "readme_tables.py")
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    text = (ROOT / "README.md").read_text()
    assert len(tables.BLOCK.findall(text)) >= 10
    _, stale = tables.refresh(text)
    assert not stale, f"README tables differ from their commands (run scripts/readme_tables.py): {stale}"


SKIP = "<!-- not run by tests/test_readme.py:"
"""Put right above a ```python block that cannot run here, with the reason (network, a GPU):
`<!-- not run by tests/test_readme.py: needs a GPU -->`. No block is marked today."""


def python_blocks() -> list[tuple[int, str, str | None]]:
    """(line, code, why it is not run or None) for every ```python block of README.md."""
    text = (ROOT / "README.md").read_text()
    out = []
    for m in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
        before = text[:m.start()].rstrip().splitlines()[-1:]
        why = before[0][len(SKIP):].rstrip("- >").strip() if before and \
            before[0].startswith(SKIP) else None
        out.append((text.count("\n", 0, m.start()) + 1, m.group(1), why))
    return out


def test_every_python_block_runs(tiny_lm, tmp_path, monkeypatch, fresh_registries):
    """Every ```python block of the README, in order, in one namespace (as a notebook runs
    them), in a fresh folder where the repository's datasets, examples and suites are, and
    `build/tiny-lm` is the tiny model the tests train (scripts/train-tiny-lm.py's output). The
    first block (From Python) has its own test above with its figures; the rest run here."""
    blocks = python_blocks()
    assert len(blocks) >= 5
    for name in ("datasets", "suites", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "tiny-lm").symlink_to(tiny_lm)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {"__name__": "readme"}
    ran = 0
    for line, code, why in blocks[1:]:
        if why is not None:
            assert why, f"README.md:{line}: a block not run must say why"
            continue
        try:
            exec(compile(code, f"README.md:{line}", "exec"), scope)  # noqa: S102
        except Exception as e:
            raise AssertionError(f"the python block at README.md:{line} fails: "
                                 f"{type(e).__name__}: {e}") from e
        ran += 1
    assert ran == len(blocks) - 1
    assert [r.status for r in scope["recs"]] == ["verified"]  # the GRU block's own run
    recs = mdlbench.records(tmp_path / "results" / "runs")
    assert {r.compressor.name for r in recs} >= {"snappy", "gru", "hf"}
    assert all(r.status == "verified" for r in recs)
