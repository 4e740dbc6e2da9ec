"""A hostile user's acceptance check: dozens of bad inputs thrown at the real command line.
The case table lives here, in tests/, where the suite runs it (tests/test_hostile.py: all of it
as a slow test, the `untrusted:` cases in every `make test`); scripts/hostile_check.py is the
same driver for a person to run.

Every case runs `python -m mdlbench.cli ...` in a scratch folder (with its own device nodes,
FIFOs, sparse files, symlinks and forged streams, all made there) and checks what the issue's
"Done when" asks: no traceback, no hang (each case has a deadline), no special file replaced,
the stated exit code, and, for an error, exactly one line `mdlbench: error: ...`. Gate cases
check that no regression passes. A few cases check what a run recorded or wrote.

    .venv/bin/python scripts/hostile_check.py [-k SUBSTRING] [--keep] [--show]
    .venv/bin/python tests/hostile_cases.py [-k SUBSTRING] [--keep] [--show]   (the same)

Prints one line per case and a summary; exits 1 when any case fails. Children run under an
address-space limit (RLIMIT_AS) so that a case that would take all memory fails instead of
hurting the machine. Never touches the machine's /dev: its device nodes are made with mknod in
the scratch folder (this needs root; without it those cases are skipped).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_LIMIT = 12 << 30
"""Address-space limit of every child (bytes): a case that asks for more fails with no harm."""
DEADLINE = 90.0
"""Seconds a case may take: a case still running then is a hang."""

ERROR, FAIL, OK = 2, 1, 0


@dataclass
class Case:
    name: str
    args: list[str]
    codes: tuple[int, ...] = (ERROR,)
    needle: str = ""
    """A substring the error line (or, with exit 0/1, the output) must hold."""
    check: Callable[[subprocess.CompletedProcess[str]], str | None] | None = None
    """Extra check of what the case left behind: a problem, or None."""
    one_line: bool | None = None
    """Whether stderr must be exactly one `mdlbench: error:` line (default: when exit 2)."""
    env: dict[str, str] = field(default_factory=dict)
    deadline: float = DEADLINE
    pending: str = ""
    """Why a failure of this case is expected until a value outside this branch is set: it is
    then reported as PENDING, not passed."""


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def mdl(args: list[str], cwd: Path, env: dict[str, str] | None = None,
        deadline: float = DEADLINE) -> subprocess.CompletedProcess[str] | None:
    """The CLI in a child process; None when it ran past its deadline (killed, with its group)."""
    proc = subprocess.Popen([sys.executable, "-m", "mdlbench.cli", *args], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_limit, env={**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def specials(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every non-regular, non-directory entry under root: (inode, mode, rdev), to see that
    none was replaced."""
    found = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                found[p] = (st.st_ino, st.st_mode, st.st_rdev)
    return found


Snapshot = dict[str, tuple]


def snapshot(root: Path) -> Snapshot:
    """What every entry under root is (type and content), to put back what a case changed."""
    snap: Snapshot = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                snap[path] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                snap[path] = ("dir",)
            elif stat.S_ISREG(st.st_mode):
                big = st.st_size > 1 << 20
                snap[path] = ("file", st.st_size) if big else ("file", Path(path).read_bytes())
            else:
                snap[path] = ("node", st.st_mode, st.st_rdev, st.st_ino)
    return snap


def restore(root: Path, snap: Snapshot) -> None:
    """Put back every entry of the snapshot a case replaced, and remove the top-level entries
    it made, so that each case meets the same scratch folder."""
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if path not in snap:
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) \
                else os.unlink(path)
    for path, what in sorted(snap.items()):
        now = snapshot_one(path)
        if now == what or (what[0] == "node" and now[:3] == what[:3]):
            continue
        if now[0] == "dir":
            shutil.rmtree(path)
        elif now[0] != "missing":
            os.unlink(path)
        if what[0] == "link":
            os.symlink(what[1], path)
        elif what[0] == "dir":
            os.mkdir(path)
        elif what[0] == "file" and isinstance(what[1], int):
            with open(path, "wb") as f:
                f.truncate(what[1])
        elif what[0] == "file":
            Path(path).write_bytes(what[1])
        else:
            os.mknod(path, what[1], what[2])


def snapshot_one(path: str) -> tuple:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ("missing",)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return ("dir",)
    if stat.S_ISREG(st.st_mode):
        return ("file", st.st_size) if st.st_size > 1 << 20 else ("file", Path(path).read_bytes())
    return ("node", st.st_mode, st.st_rdev, st.st_ino)


def judge(case: Case, p: subprocess.CompletedProcess[str] | None) -> str | None:
    if p is None:
        return f"hung (still running after {case.deadline:.0f} s)"
    both = p.stdout + p.stderr
    if "Traceback" in both:
        return "traceback:\n" + "\n".join("      " + ln for ln in p.stderr.splitlines()[-6:])
    if p.returncode not in case.codes:
        return f"exit {p.returncode}, expected {'/'.join(map(str, case.codes))}: " \
               f"{p.stderr.strip().splitlines()[-1:] or p.stdout.strip().splitlines()[-1:]}"
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    one = case.one_line if case.one_line is not None else p.returncode == ERROR
    if one and (len(lines) != 1 or not lines[0].startswith("mdlbench: error: ")):
        return f"not one error line: {lines[:4]}"
    if case.needle and case.needle not in both:
        return f"{case.needle!r} not in the output: {(lines or both.splitlines())[-1:]}"
    return case.check(p) if case.check else None


# ----------------------------------------------------------------------------- the scratch folder


def forged(spec: str, length: int, payload: bytes, meta: bytes = b"") -> bytes:
    """A container whose header checks out but whose length is whatever the forger wants."""
    s = spec.encode()

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)

    head = b"MDL\x01" + varint(len(s)) + s + varint(length) + bytes(4) + varint(len(meta)) + meta
    return head + (zlib.crc32(head) & 0xFFFF).to_bytes(2, "little") + payload


def zstd_bomb_frame(size: int) -> bytes:
    """A zstd frame header that declares `size` bytes of content, then one empty raw block."""
    # frame magic, descriptor (single segment, 8-byte content size), content size, last raw block
    return (b"\x28\xb5\x2f\xfd" + bytes([0xE0]) + size.to_bytes(8, "little")
            + bytes([0x01, 0x00, 0x00]))


EXITING_PLUGIN = """
import sys, zlib
from mdlbench.compressors import Compressor, register


@register
class Quits(Compressor):
    name = "quits"

    def compress(self, data):
        print("the plugin talks on standard output")
        sys.exit(0)

    def decompress(self, blob):
        return zlib.decompress(blob)


@register
class Talks(Compressor):
    name = "talks"

    def compress(self, data):
        print("the plugin talks on standard output")
        return zlib.compress(data)

    def decompress(self, blob):
        print("and again")
        return zlib.decompress(blob)
"""


def setup(w: Path, root: bool) -> dict[str, Path]:
    """Make every hostile object in `w`; return the interesting paths by name."""
    p: dict[str, Path] = {}
    (w / "dir").mkdir()
    (w / "exiting_plugin.py").write_text(EXITING_PLUGIN)
    (w / "exit_on_import.py").write_text("import sys\nsys.exit(5)\n")
    (w / "exit0_on_import.py").write_text("import sys\nsys.exit(0)\n")
    (w / "text.txt").write_bytes(b"the quick brown fox jumps over the lazy dog\n" * 200)
    (w / "empty").write_bytes(b"")
    (w / "bible").write_bytes(b"not the King James Bible, a user's file called bible\n" * 50)
    os.symlink(w / "text.txt", w / "text-link")
    os.link(w / "text.txt", w / "text-hard")
    os.symlink(w / "nowhere", w / "dangling")
    os.mkfifo(w / "fifo")
    os.mkfifo(w / "fifo.json")
    os.mkfifo(w / "fifo.toml")
    with open(w / "sparse", "wb") as f:
        f.truncate(20 << 30)
    (w / "long-name").write_text("x")
    if root:
        for name, major, minor in (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7)):
            os.mknod(w / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.symlink(w / "null", w / "null-link")
    # a directory dataset with something it cannot read in a subfolder
    for name in ("dir-fifo", "dir-dangling", "dir-loop"):
        (w / name / "sub").mkdir(parents=True)
        (w / name / "a.txt").write_bytes(b"a file that reads fine\n" * 20)
    os.mkfifo(w / "dir-fifo" / "sub" / "pipe")
    os.symlink(w / "gone", w / "dir-dangling" / "sub" / "link")
    os.symlink(w / "dir-loop", w / "dir-loop" / "sub" / "loop")
    # labelled CSV with two candidate label columns
    (w / "table.csv").write_text("x,y,a\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(60)))
    # suites
    suites = {
        "per_file_string": 'datasets = ["iid:n=200"]\ncompressors = ["zlib"]\nper_file = "false"\n',
        "seeds_string": 'datasets = ["iid:n=200"]\ncompressors = ["zlib"]\nseeds = "abc"\n',
        "seeds_zero": 'datasets = ["iid:n=200"]\ncompressors = ["zlib"]\nseeds = 0\n',
        "seeds_bool": 'datasets = ["iid:n=200"]\ncompressors = ["zlib"]\nseeds = true\n',
        "chunk_float": 'datasets = ["iid:n=200"]\ncompressors = ["zlib"]\nchunk_size = 1.5\n',
        "chunk_zero": 'datasets = ["iid:n=200"]\ncompressors = ["zlib"]\nchunk_size = 0\n',
        "group_not_table": 'group = 3\n',
        "datasets_string": 'datasets = "iid"\ncompressors = ["zlib"]\n',
        "empty": '',
        "bad_group2": ('[[group]]\ndatasets = ["iid:n=200"]\ncompressors = ["zlib"]\n'
                       '[[group]]\ndatasets = ["no/such/file"]\ncompressors = ["zlib"]\n'),
        "bad_spec_group2": ('[[group]]\ndatasets = ["iid:n=200"]\ncompressors = ["zlib"]\n'
                            '[[group]]\ndatasets = ["iid:n=200"]\ncompressors = ["kt:alpha=nan"]\n'),
    }
    for name, text in suites.items():
        (w / f"suite-{name}.toml").write_text(text)
    (w / "suite-binary.toml").write_bytes(b"\xff\xfe\x00garbage\x80")
    # baselines and damaged records
    cells = {"iid:n=20000 | zlib": 1}
    for name, doc in {
        "empty-cells": {"schema": 1, "cells": {}},
        "no-cells": {"schema": 1},
        "list": [1, 2],
        "string-bits": {"schema": 1, "cells": {"iid:n=20000 | zlib": "lots"}},
        "negative": {"schema": 1, "cells": {"iid:n=20000 | zlib": -5}},
        "bool": {"schema": 1, "cells": {"iid:n=20000 | zlib": True}},
        "schema-99": {"schema": 99, "cells": cells},
        "foreign-name": {"schema": 1, "cells": {"no separator here": 1}},
    }.items():
        (w / f"base-{name}.json").write_text(json.dumps(doc))
    (w / "base-nan.json").write_text('{"schema": 1, "cells": {"iid:n=20000 | zlib": NaN}}')
    (w / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    # forged and damaged streams
    (w / "zstd-bomb.mdl").write_bytes(forged("zstd", 8 << 30, zstd_bomb_frame(8 << 30)))
    (w / "zstd-bomb-small-header.mdl").write_bytes(forged("zstd", 6, zstd_bomb_frame(8 << 30)))
    (w / "kt-long.mdl").write_bytes(forged("kt", 2**31 - 1, bytes(64), b"\x02"))
    (w / "mix-long.mdl").write_bytes(forged("mix", 2**31 - 1, bytes(64)))
    (w / "huge-length.mdl").write_bytes(forged("zlib", 2**70, zlib.compress(b"x")))
    (w / "spec-unknown.mdl").write_bytes(forged("nosuch:level=3", 1, b"x"))
    (w / "spec-badparam.mdl").write_bytes(forged("zstd:level=nan", 1, b"x"))
    (w / "magic-only.mdl").write_bytes(b"MDL")
    (w / "version-9.mdl").write_bytes(b"MDL\x09" + bytes(20))
    (w / "ppmd-huge-mem.mdl").write_bytes(forged("ppmd", 10, b"\xff\xff\xff\x7f" + bytes(8)))
    p.update({n: w / n for n in os.listdir(w)})
    return p


def make_results(w: Path) -> Path:
    """A real small run, its records then damaged in copies: (the good folder)."""
    good = w / "runs-good"
    r = mdl(["run", "iid:n=20000", "-c", "zlib", "-c", "bz2", "--results", str(good), "-q"], w)
    assert r is not None and r.returncode == 0, r
    rec = sorted(good.rglob("*.json"))[0]
    doc = json.loads(rec.read_text())
    damaged = {
        "no-dataset": {k: v for k, v in doc.items() if k != "dataset"},
        "bits-lots": {**doc, "bits": "lots"},
        "bits-null": {**doc, "bits": None},
        "bits-negative": {**doc, "bits": -8},
        "bits-float": {**doc, "bits": 1.5},
        "status-weird": {**doc, "status": "great"},
        "size-string": {**doc, "dataset": {**doc["dataset"], "size": "big"}},
        "dataset-list": {**doc, "dataset": [1, 2]},
        "timing-garbage": {**doc, "timing": {"encode": {"min_s": "fast"}}},
        "parts-garbage": {**doc, "parts": [{"name": 3}]},
        "top-list": [doc],
        "seed-string": {**doc, "seed": "zero"},
    }
    for name, d in damaged.items():
        folder = w / f"runs-{name}"
        shutil.copytree(good, folder)
        target = sorted(folder.rglob("*.json"))[0]
        target.write_text(json.dumps(d))
    folder = w / "runs-fifo"
    shutil.copytree(good, folder)
    os.mkfifo(folder / "zz.json")
    folder = w / "runs-deep"
    shutil.copytree(good, folder)
    shutil.copy(w / "deep.json", folder / "deep.json")
    folder = w / "runs-with-baseline"
    shutil.copytree(good, folder)
    return good


def unbounded(name: str) -> str:
    """Why a forged length of coder `name` cannot fail fast yet: it declares no bound (its
    max_input, max_ratio or length_bound; see Compressor), or "" when it does."""
    from mdlbench.compressors import REGISTRY
    from mdlbench.compressors.base import Compressor

    cls = REGISTRY.get(name)
    if cls is None:
        return ""
    declared = (cls.max_input != Compressor.max_input or cls.max_ratio is not None
                or cls.length_bound is not Compressor.length_bound)
    return "" if declared else f"{name} declares no input limit or length bound yet"


def cases(w: Path, root: bool) -> list[Case]:
    t = str(w / "text.txt")
    out = str(w / "out.bin")
    stream = str(w / "text.mdl")
    r = mdl(["encode", "-c", "zstd", t, stream], w)
    assert r is not None and r.returncode == 0, r
    good = make_results(w)
    base = w / "base-good.json"
    r = mdl(["gate", "--baseline", str(base), "--results", str(good), "--update"], w)
    assert r is not None and r.returncode == 0, r
    cells = json.loads(base.read_text())["cells"]
    first = sorted(cells)[0]
    for name, delta in (("regressed", -5000), ("regressed-1", -1), ("improved", +7)):
        (w / f"base-{name}.json").write_text(json.dumps(
            {"schema": 1, "cells": {**cells, first: cells[first] + delta}}))
    (w / "base-missing.json").write_text(json.dumps(
        {"schema": 1, "cells": {**cells, "iid:n=999 | zlib": 100}}))
    shutil.copy(base, w / "runs-with-baseline" / "baseline.json")

    def gate(b: str, *extra: str, results: Path = good) -> list[str]:
        return ["gate", "--baseline", str(w / f"base-{b}.json"), "--results", str(results), *extra]

    def absent(path: str) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
        return lambda _p: f"{path} was written" if os.path.lexists(path) else None

    def unchanged(path: Path, data: bytes) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
        return lambda _p: None if path.read_bytes() == data else f"{path} was overwritten"

    def json_cells(want: dict[str, str]) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
        """Standard output is `run --format json`'s list, whatever the coders printed, with
        these statuses by spec."""
        def check(p: subprocess.CompletedProcess[str]) -> str | None:
            try:
                got = {r["compressor"]["spec"]: r["status"] for r in json.loads(p.stdout)}
            except (ValueError, KeyError, TypeError) as e:
                return f"stdout is not the JSON records ({e}): {p.stdout[:120]!r}"
            return None if got == want else f"statuses {got}, expected {want}"
        return check

    def status_error(folder: Path) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
        def check(_p: subprocess.CompletedProcess[str]) -> str | None:
            recs = [json.loads(f.read_text()) for f in folder.rglob("*.json")]
            bad = [(r["status"], r["bits"]) for r in recs if r["status"] != "error" or r["bits"]]
            return f"records not status error with no bits: {bad}" if bad or not recs else None
        return check

    text_bytes = (w / "text.txt").read_bytes()
    c: list[Case] = [
        # ---- encode / decode: inputs
        Case("encode: input is a FIFO", ["encode", "-c", "zlib", str(w / "fifo"), out],
             needle="not a regular file", check=absent(out)),
        Case("encode: input is a directory", ["encode", "-c", "zlib", str(w / "dir"), out],
             needle="directory", check=absent(out)),
        Case("encode: 20 GiB sparse input", ["encode", "-c", "zlib", str(w / "sparse"), out],
             needle="larger than", check=absent(out)),
        Case("encode: dangling symlink input", ["encode", "-c", "zlib", str(w / "dangling"), out],
             check=absent(out)),
        Case("encode: a range spec", ["encode", "-c", "zstd:level=1..3", t, out], check=absent(out)),
        Case("encode: NaN parameter", ["encode", "-c", "kt:alpha=nan", t, out],
             needle="not a finite", check=absent(out)),
        Case("encode: output is its input", ["encode", "-c", "zlib", t, t],
             check=unchanged(w / "text.txt", text_bytes)),
        Case("encode: output is a hard link of its input",
             ["encode", "-c", "zlib", t, str(w / "text-hard")],
             check=unchanged(w / "text.txt", text_bytes)),
        Case("encode: output is a symlink to its input",
             ["encode", "-c", "zlib", t, str(w / "text-link")],
             check=unchanged(w / "text.txt", text_bytes)),
        Case("encode: output is a directory", ["encode", "-c", "zlib", t, str(w / "dir")],
             needle="directory"),
        Case("encode: output under a file", ["encode", "-c", "zlib", t, str(w / "text.txt" / "x")]),
        Case("encode: output name too long", ["encode", "-c", "zlib", t, str(w / ("n" * 300))]),
        Case("encode: output is a FIFO with no reader", ["encode", "-c", "zlib", t,
                                                        str(w / "fifo")]),
        Case("encode: output is a dangling symlink", ["encode", "-c", "zlib", t,
                                                     str(w / "dangling")],
             check=lambda _p: None if not (w / "nowhere").exists() else "followed the link"),
        Case("encode: a stream that does not decode back (ppmd I on ptt5)",
             ["encode", "-c", "ppmd", str(ROOT / "datasets/canterbury/ptt5"), out],
             codes=(FAIL,), one_line=True, check=absent(out)),
        Case("untrusted: encode refuses an empty input with run's line",
             ["encode", "-c", "zstd", str(w / "empty"), str(w / "empty.mdl")],
             needle=f"input is empty: {w / 'empty'}", check=absent(str(w / "empty.mdl"))),
        Case("untrusted: run refuses an empty input with encode's line",
             ["run", str(w / "empty"), "-c", "zstd", "--results", str(w / "r-empty")],
             needle=f"input is empty: {w / 'empty'}", check=absent(str(w / "r-empty"))),
        Case("decode: output is its input", ["decode", stream, stream]),
        Case("decode: input is a FIFO", ["decode", str(w / "fifo"), out], check=absent(out)),
        Case("decode: 20 GiB sparse stream", ["decode", str(w / "sparse"), out],
             needle="larger than", check=absent(out)),
        Case("decode: empty file", ["decode", str(w / "empty"), out], check=absent(out)),
        Case("decode: magic only", ["decode", str(w / "magic-only.mdl"), out], check=absent(out)),
        Case("decode: unknown format version", ["decode", str(w / "version-9.mdl"), out]),
        Case("decode: length 2^70 in the header", ["decode", str(w / "huge-length.mdl"), out],
             check=absent(out)),
        Case("decode: zstd frame declaring 8 GiB, header says 8 GiB",
             ["decode", str(w / "zstd-bomb.mdl"), out], check=absent(out)),
        Case("decode: zstd frame declaring 8 GiB, header says 6 B",
             ["decode", str(w / "zstd-bomb-small-header.mdl"), out], check=absent(out)),
        Case("decode: kt with length 2^31-1", ["decode", str(w / "kt-long.mdl"), out],
             deadline=30, check=absent(out), pending=unbounded("kt")),
        Case("decode: mix with length 2^31-1", ["decode", str(w / "mix-long.mdl"), out],
             deadline=30, check=absent(out), pending=unbounded("mix")),
        Case("decode: ppmd header asking for 2 GB of model", ["decode",
                                                             str(w / "ppmd-huge-mem.mdl"), out]),
        Case("decode: stream names an unknown compressor",
             ["decode", str(w / "spec-unknown.mdl"), out]),
        Case("decode: stream names a NaN parameter",
             ["decode", str(w / "spec-badparam.mdl"), out]),
        Case("decode: output is a directory", ["decode", stream, str(w / "dir")]),
        Case("decode: output is a dangling symlink", ["decode", stream, str(w / "dangling")]),
        # ---- run: datasets
        Case("run: FIFO dataset", ["run", str(w / "fifo"), "-c", "zlib", "--results",
                                   str(w / "r-fifo")], needle="not a regular file"),
        Case("run: 20 GiB sparse dataset", ["run", str(w / "sparse"), "-c", "zlib", "--results",
                                            str(w / "r-sparse")], needle="larger than"),
        Case("run: directory holding a FIFO", ["run", str(w / "dir-fifo"), "-c", "zlib",
                                               "--results", str(w / "r-dfifo")]),
        Case("run: directory holding a dangling symlink", ["run", str(w / "dir-dangling"), "-c",
                                                           "zlib", "--results", str(w / "r-dd")]),
        Case("run: directory holding a symlink loop", ["run", str(w / "dir-loop"), "-c", "zlib",
                                                       "--results", str(w / "r-dloop")]),
        Case("run: /dev/stdin (not a regular file)", ["run", "/dev/stdin", "-c", "zlib",
                                                      "--results", str(w / "r-stdin")]),
        Case("run: markov:n=2147483648", ["run", "markov:n=2147483648", "-c", "zlib",
                                          "--results", str(w / "r-n")]),
        Case("run: iid:n=1e999", ["run", "iid:n=1e999", "-c", "zlib"]),
        Case("run: iid:n=nan", ["run", "iid:n=nan", "-c", "zlib"]),
        Case("run: canterbury:head=-1", ["run", "canterbury:head=-1", "-c", "zlib"]),
        Case("run: bible:file=../../etc/passwd", ["run", "bible:file=../../etc/passwd", "-c",
                                                  "zlib"]),
        Case("run: url with file://", ["run", "url:file:///etc/passwd,sha256=" + "0" * 64]),
        Case("run: --labels names no column", ["run", str(w / "table.csv"), "--labels", "zz",
                                               "-c", "zlib"]),
        # ---- run: compressors and options
        Case("run: kt:alpha=nan", ["run", "iid:n=200", "-c", "kt:alpha=nan"],
             needle="not a finite"),
        Case("run: kt:alpha=inf", ["run", "iid:n=200", "-c", "kt:alpha=inf"]),
        Case("run: lstm:lr=nan", ["run", "iid:n=200", "-c", "lstm:lr=nan"]),
        Case("run: ensemble:switch=nan", ["run", "iid:n=200", "-c", "ensemble:switch=nan"]),
        Case("run: zstd:level=1e999", ["run", "iid:n=200", "-c", "zstd:level=1e999"]),
        Case("run: zstd:level=nan", ["run", "iid:n=200", "-c", "zstd:level=nan"]),
        Case("run: a range of a million", ["run", "iid:n=200", "-c", "zstd:level=1..1000000"]),
        Case("run: empty compressor spec", ["run", "iid:n=200", "-c", ""]),
        Case("run: --min-time nan", ["run", "iid:n=200", "-c", "zlib", "--min-time", "nan"]),
        Case("run: --min-time -1", ["run", "iid:n=200", "-c", "zlib", "--min-time", "-1"]),
        Case("run: --chunk-size -5", ["run", "iid:n=200", "-c", "zlib", "--chunk-size", "-5"]),
        Case("run: --seeds 0", ["run", "iid:n=200", "-c", "zlib", "--seeds", "0"]),
        # ---- run: results folder
        Case("run: --results is a file", ["run", "iid:n=200", "-c", "zlib", "--results", t],
             check=unchanged(w / "text.txt", text_bytes)),
        Case("run: --results under a file", ["run", "iid:n=200", "-c", "zlib", "--results",
                                             str(w / "text.txt" / "sub")]),
        Case("run: --results is a FIFO", ["run", "iid:n=200", "-c", "zlib", "--results",
                                          str(w / "fifo")]),
        Case("run: --device cuda without a GPU is an error cell, no bits",
             ["run", "iid:n=200", "-c", "lstm:hidden=8", "--device", "cuda", "--results",
              str(w / "r-cuda"), "-q"], codes=(FAIL,), check=status_error(w / "r-cuda")),
        # ---- suites
        *[Case(f"suite: {name}", ["run", "--suite", str(w / f"suite-{name}.toml"), "--results",
                                  str(w / f"r-suite-{name}")],
               check=absent(str(w / f"r-suite-{name}")))
          for name in ("per_file_string", "seeds_string", "seeds_zero", "seeds_bool",
                       "chunk_float", "chunk_zero", "group_not_table", "datasets_string",
                       "empty", "binary", "bad_group2", "bad_spec_group2")],
        Case("suite: a FIFO", ["run", "--suite", str(w / "fifo.toml")]),
        Case("suite: a directory", ["run", "--suite", str(w / "dir")]),
        # ---- compare
        Case("compare: FIFO *.json in a results tree", ["compare", str(w / "runs-fifo")]),
        Case("compare: 200,000-deep JSON in a results tree", ["compare", str(w / "runs-deep")]),
        Case("compare: a folder with a baseline.json in it", ["compare",
                                                              str(w / "runs-with-baseline")],
             codes=(OK,)),
        Case("compare: the project's own results/", ["compare", str(ROOT / "results")],
             codes=(OK,)),
        *[Case(f"compare: damaged record ({name})", ["compare", str(w / f"runs-{name}")])
          for name in ("no-dataset", "bits-lots", "bits-null", "bits-negative", "bits-float",
                       "status-weird", "size-string", "dataset-list", "timing-garbage",
                       "parts-garbage", "top-list", "seed-string")],
        # ---- gate
        Case("gate: unchanged passes", gate("good"), codes=(OK,), needle="gate passed"),
        Case("gate: +5,000 bits fails", gate("regressed"), codes=(FAIL,), needle="REGRESSION",
             one_line=False),
        Case("gate: +1 bit fails", gate("regressed-1"), codes=(FAIL,), needle="REGRESSION",
             one_line=False),
        Case("gate: +5,000 bits with --tolerance nan", gate("regressed", "--tolerance", "nan")),
        Case("gate: +5,000 bits with --tolerance inf", gate("regressed", "--tolerance", "inf")),
        Case("gate: --tolerance nan%", gate("regressed", "--tolerance", "nan%")),
        Case("gate: --tolerance 1e999", gate("regressed", "--tolerance", "1e999")),
        Case("gate: --tolerance -1", gate("regressed", "--tolerance", "-1")),
        Case("gate: --tolerance abc", gate("regressed", "--tolerance", "abc")),
        Case("gate: a rise within tolerance is not 'unchanged'",
             gate("regressed-1", "--tolerance", "8"), codes=(OK,), needle="within tolerance"),
        Case("gate: an improvement is reported as better", gate("improved"), codes=(OK,),
             needle="better"),
        Case("gate: a cell missing from the results fails", gate("missing"), codes=(FAIL,),
             needle="MISSING", one_line=False),
        *[Case(f"gate: baseline {name}", gate(name))
          for name in ("empty-cells", "no-cells", "list", "string-bits", "negative", "bool",
                       "schema-99", "foreign-name", "nan")],
        Case("gate: a record file as the baseline",
             ["gate", "--baseline", str(sorted(good.rglob("*.json"))[0]), "--results", str(good)]),
        Case("gate: baseline is a FIFO", ["gate", "--baseline", str(w / "fifo.json"),
                                          "--results", str(good)]),
        Case("gate: baseline is a directory", ["gate", "--baseline", str(w / "dir"),
                                               "--results", str(good)]),
        Case("gate: results with a damaged record", gate("good", results=w / "runs-bits-lots")),
        Case("gate --update to a directory", ["gate", "--baseline", str(w / "dir"), "--results",
                                              str(good), "--update"]),
        Case("gate --update to a FIFO", ["gate", "--baseline", str(w / "fifo.json"), "--results",
                                         str(good), "--update"]),
        # ---- list
        Case("list runs", ["list"], codes=(OK,)),
        # ---- untrusted input, round two: plugins that end the process, grids too large
        *[Case(f"untrusted: a plugin's sys.exit(0) in compress is a failed cell (-j {j})",
               ["--plugin", str(w / "exiting_plugin.py"), "run", "iid:n=300", "-c", "quits",
                "-c", "talks", "-c", "zlib", "-j", j, "--results", str(w / f"r-quits-{j}"),
                "--format", "json"], codes=(FAIL,), one_line=False,
               needle=f"raised by plugin {w / 'exiting_plugin.py'} (compressor quits)",
               check=json_cells({"quits": "error", "talks": "verified", "zlib": "verified"}))
          for j in ("1", "2")],
        Case("untrusted: a plugin's sys.exit(5) on import is a usage error",
             ["--plugin", str(w / "exit_on_import.py"), "list"],
             needle=f"plugin {w / 'exit_on_import.py'}: SystemExit(5) on import"),
        Case("untrusted: a plugin's sys.exit(0) on import is a usage error",
             ["--plugin", str(w / "exit0_on_import.py"), "run", "iid:n=300", "-c", "zlib",
              "--results", str(w / "r-exit0")],
             needle="SystemExit(0) on import", check=absent(str(w / "r-exit0"))),
        Case("untrusted: --seeds 10**18 is refused before any work",
             ["run", "iid:n=300", "-c", "zlib", "--seeds", str(10**18), "--results",
              str(w / "r-seeds")], needle="--max-cells", check=absent(str(w / "r-seeds")),
             deadline=30),
        Case("untrusted: a million-cell grid of two ranges is refused before any work",
             ["run", "iid:n=300", "-c", "lstm:hidden=1..1000,streams=1..1000", "--results",
              str(w / "r-grid")], needle="1,000,000 cells", check=absent(str(w / "r-grid")),
             deadline=30),
        Case("untrusted: --max-cells 0", ["run", "iid:n=300", "-c", "zlib", "--max-cells", "0"],
             needle="--max-cells must be at least 1"),
        Case("untrusted: --max-cells lifts the limit",
             ["run", "iid:n=300", "-c", "zlib:level=1..3", "--max-cells", "3", "-q",
              "--results", str(w / "r-max")], codes=(OK,)),
        Case("untrusted: --max-cells below the grid refuses it",
             ["run", "iid:n=300", "-c", "zlib:level=1..3", "--max-cells", "2",
              "--results", str(w / "r-max2")], needle="3 cells",
             check=absent(str(w / "r-max2"))),
    ]
    if root:
        c += [
            Case("decode to a null device node streams, does not replace it",
                 ["decode", stream, str(w / "null")], codes=(OK,)),
            Case("decode to a symlink to a null device node", ["decode", stream,
                                                               str(w / "null-link")],
                 codes=(OK,)),
            Case("decode to a full device node: disk full", ["decode", stream, str(w / "full")],
                 needle="No space left"),
            Case("encode to a full device node: disk full", ["encode", "-c", "zlib", t,
                                                             str(w / "full")],
                 needle="No space left"),
            Case("encode: input is a zero device node", ["encode", "-c", "zlib", str(w / "zero"),
                                                         out], check=absent(out)),
            Case("run: zero device node as dataset", ["run", str(w / "zero"), "-c", "zlib"]),
            Case("gate --update to a null device node (streamed, not replaced)",
                 ["gate", "--baseline", str(w / "null"), "--results", str(good), "--update"],
                 codes=(OK,)),
            Case("compare -o to a null device node", ["compare", str(good), "--format", "md",
                                                      "-o", str(w / "null")], codes=(OK,)),
        ]
    return c


# ------------------------------------------------------------------- cases that need a process


def children(pid: int) -> set[int]:
    """Every process descended from `pid` (from /proc)."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parent.items() if pp == p}
        todo += list(kids - found)
        found |= kids
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] != "Z":
                    out.add(p)
        except OSError:
            pass
    return out


STOPS = {"sigint": (signal.SIGINT, 130, "Ctrl-C"), "sigterm": (signal.SIGTERM, 143, "SIGTERM")}
"""How a run is stopped politely: (signal, the exit status it must give, its name)."""
PARALLEL = {"sigint": "-j 2 run, Ctrl-C: quiet, exit 130, no process left",
            "sigterm": "untrusted: -j 2 run, SIGTERM: one line, exit 143, no process left",
            "kill9": "-j 2 run, kill -9 of the parent: workers and tracker die"}


SLOW_START = """\
import os
import sys
import time

# the hostile check's worker that starts slowly (as one importing torch does): a spawned worker
# (its command line ends in --multiprocessing-fork) says it is starting, then takes seconds
_marker = os.environ.get("MDLBENCH_HOSTILE_SLOW_START")
if _marker and sys.argv[-1:] == ["--multiprocessing-fork"]:
    with open(_marker, "a") as _f:
        _f.write(f"{os.getpid()}\\n")
    time.sleep(3)
"""
STARTING = {"sigterm": "untrusted: -j 2 run, SIGTERM while a worker starts: one line, exit 143, "
                       "no process left",
            "sigint": "untrusted: -j 2 run, Ctrl-C while a worker starts: one line, exit 130, "
                      "no process left"}


def _parallel_run(w: Path, how: str, env: dict[str, str] | None = None
                  ) -> tuple[subprocess.Popen[bytes], Path]:
    """A `-j 2` run of four slow cells on a dataset larger than a pipe's buffer (each worker's
    start, which ships it, takes more than one write), its output going to a file (orphaned
    workers would hold a pipe open): (the process, the file)."""
    log = w / f"{how}.log"
    with open(log, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mdlbench.cli", "run", "canterbury:head=300000", "-c",
             "zpaq:level=5", "-c", "xz:preset=9", "-c", "bz2", "-c", "zstd:level=19", "-j", "2",
             "--results", str(w / f"r-{how}"), "-q"], cwd=w, stdout=f, stderr=f,
            start_new_session=True, preexec_fn=_limit, env=env)
    return proc, log


def _outlived(kids: set[int], seconds: float) -> set[int]:
    """Which of `kids` are still alive after up to `seconds` (each then killed, so a failing
    case leaves nothing behind)."""
    t0 = time.time()
    while time.time() - t0 < seconds and alive(kids):
        time.sleep(0.2)
    left = alive(kids)
    for p in left:
        os.kill(p, signal.SIGKILL)
    return left


def _stopped(proc: subprocess.Popen[bytes], log: Path, how: str, kids: set[int]) -> str | None:
    """Stop the run as `how` says (STOPS) and judge: one line, its exit status, no traceback,
    none of `kids` alive 10 s later (any left are killed)."""
    signum, code, what = STOPS[how]
    if how == "sigint":
        os.killpg(proc.pid, signum)  # a terminal's Ctrl-C reaches the whole group
    else:
        os.kill(proc.pid, signum)  # `kill PID`: the driver alone
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return f"still running 30 s after {what}"
    left = _outlived(kids, 10)
    err = log.read_text()
    if "Traceback" in err:
        return f"traceback after {what}:\n" + err[-600:]
    if proc.returncode != code:
        return f"exit {proc.returncode} after {what}, expected {code}"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if len(lines) != 1:  # one line, and no resource tracker's leaked-semaphore warning
        return f"not one line after {what}: {lines[:5]}"
    return f"processes left after {what}: {sorted(left)}" if left else None


def parallel_case(w: Path, how: str) -> str | None:
    """A `-j 2` run interrupted by Ctrl-C (SIGINT to its group), SIGTERM (the parent only) or
    killed with -9 (the parent only): one line, exit 130 / 143, no leaked-semaphore warning /
    workers and resource tracker gone within seconds, only the processes this run started
    touched."""
    proc, _ = _parallel_run(w, how)
    deadline = time.time() + 60
    kids: set[int] = set()
    while time.time() < deadline and len(kids) < 3:  # two workers and the resource tracker
        time.sleep(0.2)
        kids = children(proc.pid)
    if len(kids) < 2:
        os.killpg(proc.pid, signal.SIGKILL)
        return f"only {len(kids)} child process(es) appeared"
    time.sleep(1.0)
    kids = children(proc.pid)
    if how in STOPS:
        return _stopped(proc, w / f"{how}.log", how, kids)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = _outlived(kids, 15)
    return f"orphans alive 15 s after kill -9: {sorted(left)}" if left else None


def starting_case(w: Path, how: str) -> str | None:
    """A `-j 2` run stopped by SIGTERM or Ctrl-C while its first worker is still starting (a
    sitecustomize on the path, SLOW_START, says when one starts and makes it slow; the driver
    is then still writing the worker its start): as parallel_case, one line, exit 143 / 130, no
    traceback from the half-started worker, no process left."""
    hook = w / f"slow-start-{how}"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_START)
    marker = hook / "started"
    path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "MDLBENCH_HOSTILE_SLOW_START": str(marker)}
    proc, log = _parallel_run(w, f"starting-{how}", env)
    deadline = time.time() + 60
    while time.time() < deadline and not marker.exists():
        time.sleep(0.05)
    if not marker.exists():
        os.killpg(proc.pid, signal.SIGKILL)
        return "no worker started within 60 s"
    time.sleep(0.3)
    return _stopped(proc, log, how, children(proc.pid))


def pipe_case(w: Path, args: list[str]) -> str | None:
    """`mdlbench ARGS | head -c1`: the reader takes one byte and goes; the pipe holds a page,
    so the writer meets the closed pipe whatever its output's size. Quiet, status 141 (128 +
    SIGPIPE, as a Unix tool killed by the pipe), as `yes | head -c1` does."""
    import fcntl

    r, wr = os.pipe()
    fcntl.fcntl(wr, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    proc = subprocess.Popen([sys.executable, "-m", "mdlbench.cli", *args], cwd=w, stdout=wr,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True, preexec_fn=_limit)
    os.close(wr)
    first = os.read(r, 1)
    os.close(r)
    try:
        _, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return "hung after its reader went away"
    if not first:
        return "wrote nothing"
    if err.strip():
        return f"said something on stderr: {err.strip().splitlines()[-3:]}"
    return None if proc.returncode == 141 else f"exit {proc.returncode}, expected 141"


PIPES = {"untrusted: list | head -c1: quiet, exit 141": ["list"],
         "untrusted: list --json | head -c1: quiet, exit 141": ["list", "--json"]}
"""Commands whose output is far larger than the pipe's page (an output that fits may be
written whole before the reader goes: exit 0 is then right, as for `echo hi | head -c1`)."""


# ---------------------------------------------------------------------------------- the driver


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", default="", help="run only cases whose name holds this")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--show", action="store_true", help="print each case's last stderr line")
    ns = ap.parse_args()
    root = os.geteuid() == 0
    w = Path(tempfile.mkdtemp(prefix="mdlbench-hostile-"))
    failures = pending = 0
    total = 0
    try:
        setup(w, root)
        todo = [c for c in cases(w, root) if ns.k in c.name]
        pristine = snapshot(w)
        for case in todo:
            before = specials(w)
            t0 = time.time()
            p = mdl(case.args, w, case.env, case.deadline)
            problem = judge(case, p)
            after = specials(w)
            replaced = [k for k, v in before.items() if after.get(k) != v]
            restore(w, pristine)
            if replaced:
                problem = f"special file replaced: {replaced}" + (f"; {problem}" if problem else "")
            total += 1
            waiting = bool(problem and case.pending)
            pending += waiting
            failures += problem is not None and not waiting
            code = "-" if p is None else p.returncode
            mark = "PENDING" if waiting else "FAIL" if problem else "ok  "
            why = f" ({case.pending})" if waiting else ""
            print(f"{mark} [{code}] {time.time() - t0:5.1f}s {case.name}{why}"
                  + (f"\n      {problem}" if problem else ""), flush=True)
            if ns.show and p is not None and p.stderr.strip():
                print("      " + p.stderr.strip().splitlines()[-1][:300])
        checks = ([(name, functools.partial(pipe_case, w, args)) for name, args in PIPES.items()]
                  + [(name, functools.partial(parallel_case, w, how))
                     for how, name in PARALLEL.items()]
                  + [(name, functools.partial(starting_case, w, how))
                     for how, name in STARTING.items()])
        for name, check in checks:
            if ns.k not in name:
                continue
            t0 = time.time()
            problem = check()
            total += 1
            failures += problem is not None
            print(f"{'FAIL' if problem else 'ok  '} {time.time() - t0:5.1f}s {name}"
                  + (f"\n      {problem}" if problem else ""), flush=True)
    finally:
        if ns.keep:
            print(f"scratch folder kept: {w}")
        else:
            shutil.rmtree(w, ignore_errors=True)
    print(f"{total - failures - pending} of {total} cases passed, {failures} failed, {pending} "
          f"pending" + ("" if root else " (not root: device-node cases skipped)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
