"""Reading inputs and writing outputs without surprises: one place decides what a path may be.

Reading: only regular files are read (symlinks followed). A FIFO, socket or device node is
refused by its type before it is opened, so nothing blocks on a FIFO with no writer, or reads
/dev/zero for ever; a file larger than its limit is refused by its size before a byte is read.

Writing: a regular file (or a missing one) is written atomically, through a temp file in the
same folder renamed over it, so readers see the old file or the new one, never half of one,
and a full disk or a killed process leaves the old file. Symlinks are followed to an existing
target: the file it points to is replaced, and the link stays; a symlink to nothing is refused
(no file is created where a link points). Nothing else is ever replaced: FIFOs and pipes, and
the null, zero and full devices (sinks), are written in place (streamed); directories, other
device nodes and sockets are refused. Every failure is one `OutputError` line.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from . import limits
from .errors import DataError, MdlbenchError, OutputError

SINKS = {(1, 3), (1, 5), (1, 7)}
"""(major, minor) of Linux's null, zero and full devices: writing to them changes nothing."""
_CHUNK = 1 << 20


def kind(mode: int) -> str:
    """A file type in words, for messages."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symlink"),
                       (stat.S_ISREG, "a regular file")):
        if test(mode):
            return name
    return "a special file"


def _why(e: OSError) -> str:
    return e.strerror or str(e)


def stat_input(path: Path | str, what: str = "input",
               error: type[MdlbenchError] = DataError) -> os.stat_result:
    """The stat of a regular file to read (symlinks followed); `error` for anything else."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        gone = " (a symlink to a missing file)" if os.path.islink(path) else ""
        raise error(f"cannot read {what} {path}: no such file{gone}") from None
    except OSError as e:
        raise error(f"cannot read {what} {path}: {_why(e)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"cannot read {what} {path}: it is {kind(st.st_mode)}, not a regular file")
    return st


def read_regular(path: Path | str, what: str = "input", limit: int = limits.MAX_INPUT_BYTES,
                 error: type[MdlbenchError] = DataError) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; `error` (or LimitError) otherwise.
    Files whose size the kernel does not report (/proc) are read up to the limit."""
    st = stat_input(path, what, error)
    limits.check_size(st.st_size, f"{what} {path}", limit)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise error(f"cannot read {what} {path}: {_why(e)}") from None
    try:
        with os.fdopen(fd, "rb", buffering=0) as f:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                raise error(f"cannot read {what} {path}: it was replaced while being opened")
            os.set_blocking(fd, True)
            if st.st_size:  # one allocation of the size the kernel reports
                data = f.readall()
            else:  # a size it does not report (/proc, /sys): read until EOF or the limit
                chunks, got = [], 0
                while block := f.read(min(_CHUNK, limit + 1 - got)):
                    chunks.append(block)
                    got += len(block)
                    if got > limit:
                        break
                data = b"".join(chunks)
    except OSError as e:
        raise error(f"cannot read {what} {path}: {_why(e)}") from None
    limits.check_size(len(data), f"{what} {path}", limit)
    return data


def same_file(a: Path | str, b: Path | str) -> bool:
    """Whether two paths name one file (a link, `..`, or another name of the same inode)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def write_output(path: Path | str, data: bytes | str) -> None:
    """Write `data` to `path` as the module docstring says: atomically to a regular file,
    streamed to a FIFO or a sink device, refused otherwise (OutputError, nothing written)."""
    path = Path(path)
    # a file name's undecodable byte (\udcff as Python reads it) is written as that escape
    blob = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise OutputError(f"cannot write {path}: it is a symlink to a missing file, which "
                              f"mdlbench does not follow") from None
        st = None
    except OSError as e:
        raise OutputError(f"cannot write {path}: {_why(e)}") from None
    if st is None:
        _atomic(path, blob, None)
    elif stat.S_ISREG(st.st_mode):
        _atomic(Path(os.path.realpath(path)), blob, st)
    elif stat.S_ISFIFO(st.st_mode) or (
            stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) in SINKS):
        _stream(path, blob, st)
    else:
        raise OutputError(f"cannot write {path}: it is {kind(st.st_mode)}; mdlbench replaces "
                          f"only regular files and writes in place only to FIFOs and the "
                          f"null/zero/full devices")


def _atomic(path: Path, blob: bytes, old: os.stat_result | None) -> None:
    """Temp file in the same folder, fsync, rename over `path`; the old file's permissions kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot write {path}: {path.parent} is not a directory") from None
    except OSError as e:
        raise OutputError(f"cannot write {path}: {_why(e)} ({path.parent})") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mdlbench-", suffix=".tmp")
    except OSError as e:
        raise OutputError(f"cannot write {path}: {_why(e)}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        mode = stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~umask
        try:
            os.fchmod(fd, mode)  # mkstemp makes 0600; an output is an ordinary file
            _write_all(fd, blob)
            os.fsync(fd)
        finally:
            os.close(fd)
        now = os.lstat(path) if os.path.lexists(path) else None
        if now is not None and not stat.S_ISREG(now.st_mode):  # swapped since we looked
            raise OutputError(f"cannot write {path}: it became {kind(now.st_mode)}")
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {_why(e)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_all(fd: int, blob: bytes) -> None:
    view = memoryview(blob)
    while view:
        view = view[os.write(fd, view[:_CHUNK]):]


def _stream(path: Path, blob: bytes, st: os.stat_result) -> None:
    """Write into a FIFO or a sink device in place (never created, truncated or replaced). A
    FIFO is opened without blocking: with no reader that is an error, not a hang."""
    fifo = stat.S_ISFIFO(st.st_mode)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | (os.O_NONBLOCK if fifo else 0))
    except OSError as e:
        why = "no process is reading the FIFO" if e.errno == errno.ENXIO else _why(e)
        raise OutputError(f"cannot write {path}: {why}") from None
    try:
        now = os.fstat(fd)
        if (now.st_mode, now.st_rdev) != (st.st_mode, st.st_rdev):
            raise OutputError(f"cannot write {path}: it was replaced while being opened")
        os.set_blocking(fd, True)
        _write_all(fd, blob)
    except OSError as e:
        why = "the reader closed the FIFO" if e.errno == errno.EPIPE else _why(e)
        raise OutputError(f"cannot write {path}: {why}") from None
    finally:
        os.close(fd)


def check_writable_dir(path: Path | str, what: str) -> None:
    """Create the folder `path` if needed and prove a file can be made in it, so that a
    read-only, full or mistyped folder fails before any work, not after it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        st = os.stat(path) if os.path.exists(path) else os.lstat(path)
        raise OutputError(f"{what} {path} is {kind(st.st_mode)}, not a folder") from None
    except OSError as e:
        raise OutputError(f"cannot create {what} {path}: {_why(e)}") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=path, prefix=".mdlbench-probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise OutputError(f"cannot write in {what} {path}: {_why(e)}") from None
