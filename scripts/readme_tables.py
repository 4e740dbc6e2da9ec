"""Print the README's result tables again from the committed records, with the tool itself.

Every table in README.md that shows measured figures sits between two HTML comments: the first
holds the `mdlbench compare ...` command that prints it, the second ends it:

    <!-- mdlbench compare results/readme --dataset bible --format md -->
    ...what that command prints...
    <!-- end -->

This script runs each command (in this process, from the repository's folder) and writes its
output between the markers, so no figure in the README is typed by hand. `--check` changes
nothing and exits 1 when a table differs from what its command prints now (a test runs it:
the README cannot drift from `results/`).

    .venv/bin/python scripts/readme_tables.py           # rewrite the tables
    .venv/bin/python scripts/readme_tables.py --check   # exit 1 if any is stale
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- (mdlbench compare [^\n]*?) -->\n)(.*?)(<!-- end -->)", re.S)


def printed(command: str) -> str:
    """What `command` (an `mdlbench compare` line) prints on stdout, run in this process."""
    from mdlbench import cli

    argv = shlex.split(command)[1:]
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            cli.main(argv)
    except SystemExit as e:
        if e.code:
            raise RuntimeError(f"`{command}` failed with status {e.code}") from None
    finally:
        os.chdir(cwd)
    return out.getvalue().strip() + "\n"


def refresh(text: str) -> tuple[str, list[str]]:
    """The README with every marked table printed anew, and the commands whose table changed."""
    changed: list[str] = []

    def one(m: re.Match[str]) -> str:
        new = printed(m.group(2))
        if new != m.group(3):
            changed.append(m.group(2))
        return m.group(1) + new + m.group(4)

    return BLOCK.sub(one, text), changed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()
    text = args.readme.read_text()
    new, changed = refresh(text)
    blocks = len(BLOCK.findall(text))
    if args.check:
        for c in changed:
            print(f"stale: {c}", file=sys.stderr)
        print(f"{blocks - len(changed)} of {blocks} tables match what their commands print")
        return 1 if changed else 0
    if changed:
        tmp = args.readme.with_suffix(".md.tmp")
        tmp.write_text(new)
        tmp.replace(args.readme)
    print(f"{len(changed)} of {blocks} tables printed anew")
    return 0


if __name__ == "__main__":
    sys.exit(main())
