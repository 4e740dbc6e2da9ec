"""Who computed these bits, and with what: the reproducibility block stored with every record,
and the fingerprint of the code that goes into each cell's key.

A finished cell is reused only when the code that made it is the same. The fingerprint hashes
the package's own source files (so it is the same for a checkout and an installed copy, and a
README or test edit does not invalidate results), leaving out only the modules that print and
plot records; a compressor defined outside the package (a plugin) adds its own (plugins.origin).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from .. import plugins
from ..version import __version__

PACKAGE = Path(__file__).resolve().parents[1]
PRESENTATION = ("cli.py", "results", "harness/progress.py")
"""Package paths that only parse commands, print, plot or store records: they cannot change a
cell's bits, so editing them keeps finished cells."""

_PACKAGES = ("numpy", "torch", "constriction", "numba", "zstandard", "brotli", "lz4", "pyppmd",
             "zpaq", "pandas")


@functools.cache
def _git_commit() -> str | None:
    root = PACKAGE.parent
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


def _digest(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@functools.cache
def source_hash(root: Path = PACKAGE) -> str:
    """Hash of the package's Python sources that can affect bits (all but PRESENTATION)."""
    skip = tuple(root / p for p in PRESENTATION)
    files = sorted(f for f in root.rglob("*.py")
                   if not any(f == s or s in f.parents for s in skip))
    return _digest(files, root)


def code_fingerprint(comp: Any) -> str:
    """What code made a compressor's bits: mdlbench's version and source hash; for a compressor
    class from outside the package (a plugin), its module, the hash of its file (or code) and
    its distribution's version; and what else the compressor says decides its bits (a
    pretrained model's files). This is the one place where code joins the cell key."""
    parts = [__version__, source_hash()]
    plugin = plugins.key(type(comp))
    if plugin is not None:
        parts.append(plugin)
    extra = comp.fingerprint()
    if extra:
        parts.append(extra)
    return "+".join(parts)
