"""The decoder's share of the whole description: what a decoder needs that is neither in the
stream nor on the reference machine, and its xz-compressed size in bits.

A stream alone decodes nothing: something must run it. The Hutter Prize counts the
decompressor, LMIC's adjusted rate counts an LM's weights, most tables count neither. mdlbench
states one REFERENCE machine (below) and counts everything beyond it, for every coder the same
way, so `bits + decoder bits` (the `whole` figure) compares a coder whose decoder is a few kB of
source with one whose decoder is its weights.

What is counted (`share`), each file once, in sorted order of its name:
- the mdlbench source the coder's class decodes with (`source_files`): the module that defines
  the class, then, transitively, every mdlbench module an import statement in a counted module
  names (at module level or inside a function, since a decoder calls functions that import
  lazily; never under `if TYPE_CHECKING:`). `from P import name` counts module P.name where it
  is one, else P itself (a package's `__init__.py` only when a name is taken from it: importing
  mdlbench.compressors.kt runs compressors/__init__.py, which registers every coder, but a kt
  decoder needs none of the others). The rule is conservative: a function the decoder never
  calls still brings its imports (lookup.py's `create` brings plugins.py), except
  a module's PEP 562 `__getattr__` (mdlbench's imports the whole API for `mdlbench.run`);
- compressors/lookup.py, which turns the spec a stream names into its coder;
- the files of the class's base classes from mdlbench, and a plugin's own file (a coder
  defined outside mdlbench), followed into mdlbench the same way; a class without a file (a
  notebook's) counts its source text where Python has it, else is named in `outside`;
- the files a coder names as its decoder's input (a `decoder_files()` method giving
  (name, path) pairs): hf's model folder (the weights, config and tokenizer: every file, since
  the decoder checks their CRC), a trained dictionary that the stream does not carry (one the
  stream carries is counted in `bits` already). Two-part and variational codes carry their
  parameters in the stream, so they count their source alone, like every built-in coder.
The side information a labelled dataset hands both sides (its inputs X, a LabelledData) is the
dataset's, not the decoder's: like the data's length it is given, not counted. Imports of
anything else (neither mdlbench, nor the file's own, nor the reference machine) are
listed as `outside`: not counted, and named so that a reader sees the gap.

The files are laid end to end as `name NUL size NUL bytes` (`archive`) and compressed with one
stated codec, xz -9e (`compress`). Everything is read from the files' bytes (never mtimes), so
the figure is the same on every machine holding the same sources; it is computed once per
coder class (and per model folder) in a process.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import lzma
import sys
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
NAME = PACKAGE.name

REFERENCE = ("CPython 3 with its standard library; numpy, torch, constriction, numba; "
             "transformers, tokenizers, huggingface_hub and safetensors (for hf:); the codec "
             "libraries zstandard, brotli, lz4, pyppmd, zpaq and those of mdlbench[codecs] "
             "(deflate, isal, zlib-ng, zopfli, python-snappy, lzallright, pylzf, lzfse, bzip3, "
             "kanzi, blosc2); each at the version the record's reproducibility block (or "
             "compressor.version) states")
"""The reference machine: what every decoder may use without it being counted."""

REFERENCE_MODULES = frozenset({
    "numpy", "torch", "constriction", "numba", "transformers", "tokenizers", "huggingface_hub",
    "safetensors", "zstandard", "brotli", "lz4", "pyppmd", "zpaq", "_zpaq", "llvmlite",
    "deflate", "isal", "zlib_ng", "zopfli", "snappy", "lzallright", "pylzf", "lzfse", "bz3", "kanzi", "blosc2"})
"""Top-level import names on the reference machine besides the standard library."""

PRESET = 9 | lzma.PRESET_EXTREME
CODEC = "xz -9e: Python's lzma, FORMAT_XZ, preset 9 | PRESET_EXTREME, CHECK_CRC64"

RULE = ("mdlbench modules the coder's class imports, transitively (package __init__ only where "
        "a name is taken from it); a plugin's file; the files its decoder reads besides the "
        "stream (hf: the model folder)")


def _module_file(name: str) -> Path | None:
    """The file of an importable module or package (its __init__.py), without importing it:
    mdlbench's own from its folder (find_spec would import a dotted name's parents)."""
    if name == NAME or name.startswith(NAME + "."):
        base = PACKAGE.joinpath(*name.split(".")[1:])
        for file in (base / "__init__.py", base.with_name(base.name + ".py")):
            if file.is_file():
                return file
        return None
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # a parent that is not a package, a missing one
        return None
    if found is None or not found.origin or not found.has_location:
        return None
    return Path(found.origin).resolve()


def _ours(path: Path) -> bool:
    return PACKAGE == path or PACKAGE in path.parents


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of a `from ... import` statement's module."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


LAZY_HOOKS = ("__getattr__", "__dir__")
"""Module-level functions (PEP 562) that run only when someone asks the module for a name it
does not define: mdlbench's `__getattr__` imports the whole API for `mdlbench.run`; a decoder
never asks for it."""


def _never_run(tree: ast.Module) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` and in a module's `LAZY_HOOKS`."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else (
                test.attr if isinstance(test, ast.Attribute) else "")
            if name == "TYPE_CHECKING":
                skip.update(id(n) for n in ast.walk(node))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in LAZY_HOOKS:
            skip.update(id(n) for n in ast.walk(node))
    return skip


def imports(source: bytes, module: str, is_package: bool = False) -> list[str]:
    """Absolute names of everything `source` (module `module`) imports: `from P import a` gives
    P.a, and P where P.a is not a module (resolved by the caller)."""
    tree = ast.parse(source)
    skip = _never_run(tree)
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            names.extend(f"{base}.{a.name}" if a.name != "*" else base for a in node.names)
    return names


def _module_name(path: Path) -> str:
    """The dotted name of a file inside the package."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str) -> tuple[Path | None, str]:
    """(the mdlbench file `name` needs, or None; the top-level name it belongs to). A dotted
    name that is not a module is an attribute of its parent module."""
    top = name.partition(".")[0]
    if top != NAME:
        return None, top
    while name:
        file = _module_file(name)
        if file is not None and _ours(file):
            return file, top
        name = name.rpartition(".")[0]
    return None, top


def _outside(top: str, own: str) -> bool:
    return not (top in sys.stdlib_module_names or top in REFERENCE_MODULES or top == NAME
                or top == "__future__" or top == own)


def closure(start: Iterable[tuple[Path, str]], names: Iterable[str] = (),
            own: str = "") -> tuple[list[Path], list[str]]:
    """Every mdlbench file reached through import statements from the `(file, module name)`
    starting points and from the imported `names`, the starting points included; and the
    top-level names imported that are neither mdlbench, nor `own` (a plugin's own package), nor
    on the reference machine."""
    todo = list(start)
    seen: dict[Path, str] = {}
    outside: set[str] = set()

    def follow(name: str, home: str) -> None:
        file, top = _resolve(name)
        if file is not None:
            if file not in seen:
                todo.append((file, _module_name(file)))
        elif _outside(top, home) and top not in (NAME, own):
            outside.add(top)

    for name in names:
        follow(name, own)
    while todo:
        path, module = todo.pop()
        if path in seen:
            continue
        seen[path] = module
        for name in imports(path.read_bytes(), module, path.name == "__init__.py"):
            follow(name, module.partition(".")[0])
    return sorted(seen), sorted(outside)


def _label(path: Path) -> str:
    """A file's name in the archive: package-relative for mdlbench (the same in a checkout and
    an installed copy), the file name for anything else."""
    if _ours(path):
        return path.relative_to(PACKAGE.parent).as_posix()
    return "plugin/" + path.name


def _file(cls: type) -> Path | None:
    """The file that defines `cls`, where there is one (a notebook's class has none)."""
    try:
        src = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return None
    return None if src is None or not Path(src).is_file() else Path(src).resolve()


def _start(cls: type) -> list[tuple[Path, str]]:
    """The files of `cls` and of its base classes from mdlbench or from `cls`'s own package
    (never the standard library's `abc`), and the lookup that turns a stream's spec into the
    coder, each with its module's name."""
    own = cls.__module__.partition(".")[0]
    out = []
    for k in cls.__mro__:
        if k.__module__.partition(".")[0] not in (NAME, own):
            continue
        path = _file(k)
        if path is not None and path.suffix == ".py":
            out.append((path, _module_name(path) if _ours(path) else k.__module__))
    lookup = PACKAGE / "compressors" / "lookup.py"  # a decoder finds its coder by spec name
    return [*out, (lookup, f"{NAME}.compressors.lookup")]


def source_files(cls: type) -> tuple[list[Path], list[str]]:
    """The files a decoder of `cls` runs: its defining file, its base classes' and the mdlbench
    modules reached from them (see the module's docstring); and the outside imports."""
    return closure(_start(cls), own=cls.__module__.partition(".")[0])


Source = bytes | Path
"""A file's bytes in memory (source), or its path (a model's weights are read in blocks)."""

BLOCK = 1 << 20


def _blocks(src: Source) -> Iterator[bytes]:
    if isinstance(src, bytes):
        yield src
        return
    with src.open("rb") as f:
        yield from iter(lambda: f.read(BLOCK), b"")


def _digest(src: Source) -> tuple[bytes, int]:
    """(sha256, size) of what the archive will hold of `src`."""
    h, n = hashlib.sha256(), 0
    for block in _blocks(src):
        h.update(block)
        n += len(block)
    return h.digest(), n


def archive_blocks(items: Iterable[tuple[str, Source]],
                   sizes: dict[str, int]) -> Iterator[bytes]:
    """The archive in pieces (see `archive`); `sizes` gives each file's size in bytes."""
    for name, src in sorted(items, key=lambda item: item[0]):
        yield name.encode() + b"\0" + str(sizes[name]).encode() + b"\0"
        yield from _blocks(src)


def archive(items: Iterable[tuple[str, bytes]]) -> bytes:
    """The files end to end, in sorted order of their names: `name NUL size NUL bytes` each, so
    that the archive can be split back into its files."""
    items = list(items)
    return b"".join(archive_blocks(items, {n: len(d) for n, d in items}))


def compress(blob: bytes) -> bytes:
    return lzma.compress(blob, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=PRESET)


def _xz_size(blocks: Iterable[bytes]) -> tuple[int, int]:
    """(bytes in, bytes out) of xz -9e over the blocks, compressed as one stream (what
    `compress` gives on their concatenation), without holding the whole in memory."""
    packer = lzma.LZMACompressor(format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=PRESET)
    size_in = size_out = 0
    for block in blocks:
        size_in += len(block)
        size_out += len(packer.compress(block))
    return size_in, size_out + len(packer.flush())


_MEASURED: dict[tuple[Any, ...], dict[str, Any]] = {}
"""Figures by the files' names and sha256 (not their bytes: a model folder stays on disk)."""


def _measure(items: tuple[tuple[str, Source], ...], outside: tuple[str, ...]) -> dict[str, Any]:
    digests = {name: _digest(src) for name, src in items}
    key = (tuple(sorted((n, d) for n, (d, _) in digests.items())), outside)
    if key not in _MEASURED:
        sizes = {n: size for n, (_, size) in digests.items()}
        whole, packed = _xz_size(archive_blocks(items, sizes))
        _MEASURED[key] = {
            "rule": RULE,
            "reference": REFERENCE,
            "codec": CODEC,
            "files": [{"name": n, "bytes": sizes[n]} for n in sorted(sizes)],
            "bytes": sum(sizes.values()),
            "archive_bytes": whole,
            "xz_bytes": packed,
            "bits": 8 * packed,
            "outside": list(outside),
        }
    return _MEASURED[key]


@functools.cache
def _class_source(cls: type) -> tuple[tuple[tuple[str, bytes], ...], tuple[str, ...]]:
    """(label, bytes) of every file `source_files` finds, and the outside imports. A class
    without a file (defined in a notebook, sent to workers by value) counts its own source
    text where Python has it, and is named in `outside` where it has not."""
    own = cls.__module__.partition(".")[0]
    items: list[tuple[str, bytes]] = []
    names: list[str] = []
    if _file(cls) is None:
        try:
            text = inspect.getsource(cls).encode()
        except (TypeError, OSError):
            text = None
        if text is not None:
            items.append((f"plugin/{cls.__module__}.{cls.__qualname__}.py", text))
            names = imports(textwrap.dedent(text.decode()).encode(), cls.__module__)
    files, outside = closure(_start(cls), names, own)
    if _file(cls) is None and not items:
        outside = sorted({*outside, f"{cls.__module__}.{cls.__qualname__} (no source)"})
    items.extend((_label(p), p.read_bytes()) for p in files)
    return tuple(items), tuple(outside)


def share(comp: Any) -> dict[str, Any]:
    """What a decoder of `comp`'s streams needs beyond the stream and the reference machine:
    {"files": [{"name", "bytes"}], "bytes", "archive_bytes", "xz_bytes", "bits", "outside",
    and the rule, reference and codec as text}. `bits` = 8 · xz_bytes: the decoder's share,
    not including the stream."""
    items, outside = _class_source(type(comp))
    extra = getattr(comp, "decoder_files", None)
    more: tuple[tuple[str, Source], ...] = ()
    if extra is not None:
        more = tuple((name, Path(path)) for name, path in extra())
    out = _measure(items + more, outside)
    return {**out, "files": [dict(f) for f in out["files"]], "outside": list(out["outside"])}
