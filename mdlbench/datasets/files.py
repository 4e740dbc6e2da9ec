"""User files and directories as datasets. A directory is read in sorted path order: as one
concatenated stream, or file by file with --per-file."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .base import Dataset


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None
    except IsADirectoryError:
        raise DataError(f"cannot read {path}: is a directory") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None


def load_path(path: Path, name: str | None = None) -> Dataset:
    """Load a file or a directory tree; empty or unreadable input is an error."""
    if not path.exists():
        raise DataError(f"no such file or directory: {path}")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        if not files:
            raise DataError(f"directory has no files: {path}")
        parts = [(str(p.relative_to(path)), read_file(p)) for p in files]
    else:
        parts = [(path.name, read_file(path))]
    if sum(len(b) for _, b in parts) == 0:
        raise DataError(f"input is empty: {path}")
    return Dataset(name=name or str(path), parts=parts, kind="file",
                   description=f"user data at {path}")
