"""User files and directories as datasets. A directory is read in sorted path order: as one
concatenated stream, or file by file with --per-file.

A path dataset's label is its real path, absolute, in single quotes: `'/home/me/data/bible'`.
Symlinks, `.` and `..` are resolved, so one file has one label however it is named, and the
quotes keep it apart from every registered name (`bible`) and from what a layout appends
(`'/data/dir'/per-file` is never the file `/data/dir/per-file`). What changes the data follows
in spec syntax: `'/data/t.csv':labels=y`.

Only regular files are read (fileio.read_regular): a directory holding anything else (a FIFO,
a socket, a device node, a dangling symlink, a symlink to a directory), or a subdirectory that
cannot be listed, is an error naming it, never a dataset with files silently missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .. import fileio, limits
from ..errors import DataError
from .base import Dataset

_PLAIN = re.compile(r"^[A-Za-z0-9_.-]+$")


def quote(text: str) -> str:
    """Shell-style single quotes, always: the label's delimiter."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def path_label(path: Path | str, labels: str | None = None) -> str:
    """The label of a path dataset (see the module docstring)."""
    label = quote(os.path.realpath(path))
    if labels is not None:
        label += ":labels=" + (labels if _PLAIN.match(labels) else quote(labels))
    return label


def read_file(path: Path) -> bytes:
    """A regular file's bytes, up to mdlbench's input limit; DataError or LimitError otherwise."""
    return fileio.read_regular(path)


def _files(root: Path) -> list[tuple[Path, int]]:
    """(path, size) of every file under `root`, in sorted order; DataError for what cannot be
    read."""
    def fail(e: OSError) -> None:
        raise DataError(f"cannot read directory {e.filename or root}: {e.strerror or e}")

    found = []
    for folder, dirs, names in os.walk(root, onerror=fail):
        for d in dirs:
            if os.path.islink(os.path.join(folder, d)):
                raise DataError(f"{root} holds a symlink to a directory, "
                                f"{os.path.join(folder, d)}, which is not followed")
        for name in names:
            p = Path(folder, name)
            st = fileio.stat_input(p, "file")
            found.append((p, st.st_size))
    found.sort()
    return found


def load_path(path: Path, name: str | None = None) -> Dataset:
    """Load a file or a directory tree; empty, unreadable, special or too large input is an
    error, found before the data is read."""
    if not path.exists():
        gone = " (a symlink to a missing file)" if path.is_symlink() else ""
        raise DataError(f"no such file or directory: {path}{gone}")
    if path.is_dir():
        files = _files(path)
        if not files:
            raise DataError(f"directory has no files: {path}")
        total = sum(size for _, size in files)
        limits.check_size(total, f"directory {path}")
        limits.check_memory(2 * total, f"directory {path}")  # its files, and them joined
        parts = [(str(p.relative_to(path)), read_file(p)) for p, _ in files]
    else:
        size = fileio.stat_input(path).st_size
        limits.check_size(size, f"file {path}")
        limits.check_memory(size, f"file {path}")
        parts = [(path.name, read_file(path))]
    if sum(len(b) for _, b in parts) == 0:
        raise DataError(f"input is empty: {path}")
    return Dataset(name=name or path_label(path), parts=parts, kind="file",
                   description=f"user data at {os.path.realpath(path)}")
