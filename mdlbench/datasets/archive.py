"""Unpacking a downloaded archive safely: only regular files and folders, all inside the unpack
folder and within a size budget, or nothing at all.

A crafted archive given to `tarfile.extractall` without a filter (as pooch's Untar does) writes
outside the folder: a member named ``../../x`` or ``/abs/x``, a symlink to a folder outside and
then a member written through it, a hard link to a file outside and then a member of the same
name. Here every member is checked before anything is written, and one bad member refuses the
whole archive with one line naming it: no links of any kind, no devices or FIFOs, no absolute
names, no ``..``, no name twice, no file where another member needs a folder. tarfile's own
"data" filter, where this Python has it (3.12, and backports to 3.10.12/3.11.4), checks each tar
member too, as a second opinion. The sizes the archive declares are summed as its headers are
read and refused above `limits.MAX_UNPACK_BYTES` or the free space of the disk (so a bomb stops
at its first headers, before its bulk is decompressed); while writing, the bytes actually
written are counted, so a member that yields more than its header claims stops at the limit.
Files are created with O_EXCL|O_NOFOLLOW in a fresh temporary folder beside the target, which
is renamed into place only when everything is written; their modes come from the umask, never
from the archive.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .. import limits
from ..errors import DataError, LimitError

CHUNK = 1 << 20
"""Bytes copied at a time: a member is streamed, never held whole in memory."""
_DRIVE = re.compile(r"^[A-Za-z]:")
_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_CLOEXEC", 0))


@dataclass(frozen=True)
class Member:
    """One checked member: its name as the archive spells it (for messages), its path inside
    the unpack folder, the size it declares, and the reader's own record of it."""

    name: str
    parts: tuple[str, ...]
    size: int
    is_dir: bool
    handle: Any


def refuse(archive: Path, name: str, reason: str) -> DataError:
    return DataError(f"refused archive {archive.name}: member {name!r} {reason}; "
                     "nothing was unpacked")


def safe_parts(archive: Path, name: str, dest: Path) -> tuple[str, ...]:
    """The path components of member `name`, or a refusal when it could land outside `dest`."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise refuse(archive, name, "is an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if any(".." in re.split(r"[\\/]", p) for p in parts):
        raise refuse(archive, name, "leads outside the unpack folder (..)")
    root = os.path.realpath(dest)
    if parts and not os.path.realpath(os.path.join(root, *parts)).startswith(root + os.sep):
        raise refuse(archive, name, "resolves outside the unpack folder")
    return parts


def tar_members(archive: Path, tar: tarfile.TarFile, dest: Path) -> Iterator[Member]:
    """Each member of `tar`, read header by header, checked; a refusal at the first bad one."""
    data_filter = getattr(tarfile, "data_filter", None)
    for info in tar:
        kind = (f"a symbolic link (to {info.linkname!r})" if info.issym() else
                f"a hard link (to {info.linkname!r})" if info.islnk() else
                "a device" if info.ischr() or info.isblk() else
                "a FIFO" if info.isfifo() else
                None if info.isreg() or info.isdir() else
                f"not a regular file or folder (tar type {info.type!r})")
        if kind is not None:
            raise refuse(archive, info.name, "is " + kind)
        parts = safe_parts(archive, info.name, dest)
        if data_filter is not None:
            try:
                data_filter(info, str(dest))
            except tarfile.FilterError as e:
                raise refuse(archive, info.name, f"is refused by tarfile's data filter ({e})"
                             ) from None
        yield Member(info.name, parts, info.size if info.isreg() else 0, info.isdir(), info)


def zip_members(archive: Path, z: zipfile.ZipFile, dest: Path) -> Iterator[Member]:
    """Each member of `z` from its central directory, checked; a refusal at the first bad one.
    A zip stores a member's Unix type in the high bits of external_attr: a symlink is a member
    whose data is the link's target, which an unpacker that honours the type would create."""
    for info in z.infolist():
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise refuse(archive, info.filename, "is a symbolic link")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR) or (
                kind == stat.S_IFDIR and not info.is_dir()):
            raise refuse(archive, info.filename,
                         f"is not a regular file or folder (mode {info.external_attr >> 16:o})")
        if info.flag_bits & 0x1:
            raise refuse(archive, info.filename, "is encrypted")
        parts = safe_parts(archive, info.filename, dest)
        yield Member(info.filename, parts, 0 if info.is_dir() else info.file_size, info.is_dir(),
                     info)


def budget(dest: Path) -> tuple[int, str]:
    """The most bytes an unpack into `dest` may write, and what sets that bound."""
    free = shutil.disk_usage(dest.parent).free
    if free < limits.MAX_UNPACK_BYTES:
        return free, f"the {limits.size(free)} free on the cache's disk"
    return limits.MAX_UNPACK_BYTES, (f"mdlbench's limit of {limits.size(limits.MAX_UNPACK_BYTES)}"
                                     " (limits.MAX_UNPACK_BYTES)")


def checked(archive: Path, members: Iterator[Member], cap: int, why: str) -> list[Member]:
    """All members, once every one is checked on its own and against the others, before a
    byte is written; the sums are checked as the headers come, so a bomb is refused early."""
    out: list[Member] = []
    files: set[tuple[str, ...]] = set()
    dirs: set[tuple[str, ...]] = set()
    total = 0
    for m in members:
        total += m.size
        if total > cap:
            raise LimitError(f"refused archive {archive.name}: the sizes its headers declare "
                             f"pass {why} at member {m.name!r} ({m.size:,} B); refused before "
                             "writing, nothing was unpacked")
        if len(out) >= limits.MAX_UNPACK_FILES:
            raise LimitError(f"refused archive {archive.name}: more than "
                             f"{limits.MAX_UNPACK_FILES:,} members (limits.MAX_UNPACK_FILES); "
                             "nothing was unpacked")
        if not m.parts:
            if not m.is_dir:
                raise refuse(archive, m.name, "has no file name")
            continue
        if m.parts in files or (not m.is_dir and m.parts in dirs):
            raise refuse(archive, m.name, "appears twice")
        (dirs if m.is_dir else files).add(m.parts)
        out.append(m)
    if not files:
        raise DataError(f"refused archive {archive.name}: it holds no files; nothing was "
                        "unpacked")
    inside = {m.parts[:i] for m in out for i in range(1, len(m.parts))}
    for m in out:
        if not m.is_dir and m.parts in inside:
            raise refuse(archive, m.name, "is a file, but other members are inside it")
    return out


def copy_capped(src: IO[bytes], dst: IO[bytes], cap: int) -> int:
    """Copy `src` to `dst` in chunks and return the bytes copied; LimitError, with nothing past
    `cap` written, when `src` holds more than `cap` bytes (whatever a header said it holds)."""
    n = 0
    while True:
        chunk = src.read(min(CHUNK, cap - n + 1))
        if not chunk:
            return n
        if n + len(chunk) > cap:
            raise LimitError(f"more than {cap:,} B")
        dst.write(chunk)
        n += len(chunk)


def write(archive: Path, root: Path, members: list[Member],
          open_member: Callable[[Any], IO[bytes] | None], cap: int, why: str) -> None:
    """Create the checked members under the fresh folder `root`, counting what is written."""
    left = cap
    for m in members:
        target = root.joinpath(*m.parts)
        if m.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        src = open_member(m.handle)
        if src is None:
            raise refuse(archive, m.name, "has no data")
        with src, os.fdopen(os.open(target, _FLAGS, 0o666), "wb") as dst:
            try:
                n = copy_capped(src, dst, min(m.size, left))
            except LimitError:
                bound = (f"the {m.size:,} B its header declares" if m.size < left else why)
                raise LimitError(f"refused archive {archive.name}: member {m.name!r} holds more "
                                 f"than {bound}; stopped, nothing was unpacked") from None
        if n != m.size:
            raise refuse(archive, m.name, f"holds {n:,} B, not the {m.size:,} B its header "
                         "declares (the archive is damaged)")
        left -= n


def extract(archive: Path, dest: Path) -> None:
    """Unpack `archive` (.zip, or .tar with any compression tarfile reads) into the new folder
    `dest`, or raise DataError/LimitError having written nothing that stays (see the module
    docstring). `dest` must not exist; its parent must."""
    cap, why = budget(dest)
    tmp: Path | None = None
    try:
        with reader(archive) as (members, open_member):
            chosen = checked(archive, members(dest), cap, why)
            tmp = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=dest.parent))
            write(archive, tmp, chosen, open_member, cap, why)
        os.replace(tmp, dest)
        tmp = None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError,
            NotImplementedError) as e:
        raise DataError(f"cannot unpack {archive.name}: {e or type(e).__name__}; nothing was "
                        "unpacked") from None
    except OSError as e:
        if not dest.is_dir():  # else another process finished the same unpack first
            raise DataError(f"cannot unpack {archive.name}: {e.strerror or e}; nothing was "
                            "unpacked") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def reader(archive: Path) -> Iterator[tuple[Callable[[Path], Iterator[Member]],
                                            Callable[[Any], IO[bytes] | None]]]:
    """The archive open for reading: a function listing its members (checked, for a given
    unpack folder), and one opening a member's data."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            yield (lambda dest: zip_members(archive, z, dest)), z.open
    else:
        with tarfile.open(archive, "r:*") as tar:
            yield (lambda dest: tar_members(archive, tar, dest)), tar.extractfile
