"""Helpers of the hardening tests: device nodes made in tmp_path, the one-line error check, and
the hostile acceptance cases (tests/hostile_cases.py: its forged streams and process checks are
the tests' too, written once)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import hostile_cases as hostile  # noqa: F401 - the tests take it from here
import pytest

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mknod of device nodes needs root")


def one_error_line(p, code: int = 2, needle: str = "") -> None:
    assert p.code == code, (p.code, p.err)
    assert "Traceback" not in p.err + p.out
    lines = [ln for ln in p.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("mdlbench: error: "), p.err
    assert needle in lines[0], lines[0]


def identity(path: Path) -> tuple[int, int, int]:
    st = os.lstat(path)
    return st.st_ino, st.st_mode, st.st_rdev


def node(path: Path, major: int, minor: int, kind: int = stat.S_IFCHR) -> Path:
    os.mknod(path, 0o666 | kind, os.makedev(major, minor))
    return path
