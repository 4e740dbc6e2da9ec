"""The reproducibility block stored with every result: who computed these bits, and where."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import __version__

_PACKAGES = ("numpy", "torch", "constriction", "numba", "zstandard", "brotli", "lz4", "pyppmd",
             "zpaq", "pandas")


@functools.cache
def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "mdlbench"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def _versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _gpu() -> str | None:
    torch = sys.modules.get("torch")  # only if a coder already imported it: importing costs seconds
    if torch is not None and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return None


def reproducibility(seed: int | None = None) -> dict[str, Any]:
    return {
        "mdlbench": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu(),
        "gpu": _gpu(),
        "packages": dict(_versions()),
        "seed": seed,
    }
