"""Compressors and datasets from outside the package.

Three ways in, all ending in the registries (mdlbench/registry.py: compressors, datasets,
probes); this module depends on the registries, never the other way round:
- installed packages declare entry points in the groups `mdlbench.compressors` and
  `mdlbench.datasets` (a class, or a module whose import registers its classes); they load by
  themselves the first time mdlbench needs a registry;
- `--plugin MODULE_OR_FILE` (repeatable) and `MDLBENCH_PLUGINS` (colon-separated) name a
  module on the Python path or a .py file, whose import registers classes with `@register` /
  `@register_dataset`;
- a notebook or script registers classes in `__main__` directly.

Cells that run in other processes (`-j N`, Ray) rebuild their compressor from its spec, so each
job carries a `Snapshot` of the plugin entries of every registry the driver knows and the worker `restore`s it
first: files and modules are imported again; classes that no worker can import (`__main__`,
a notebook) travel by value, pickled with cloudpickle.

A plugin class carries its origin into every record and cell key (`origin`): module, file,
distribution where known, its version (the distribution's, else `__version__`, else the digest),
and a digest of its code, so an edited plugin re-runs.
A broken plugin (import error, bad registration, a registered name taken) is one UsageError
naming the plugin.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import registry
from .errors import UsageError
from .registry import digest, home, ours, sha
from .stdio import to_stderr

ENV = "MDLBENCH_PLUGINS"
GROUPS = {"mdlbench.compressors": "compressor", "mdlbench.datasets": "dataset"}
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class _Loaded:
    """What this process has loaded (each plugin once)."""

    def __init__(self) -> None:
        self.entry_points = False
        self.files: dict[Path, str] = {}  # resolved path -> sha256 of what was executed
        self.modules: dict[str, Path] = {}  # module name -> file, for file plugins
        self.dists: dict[str, tuple[str, str]] = {}  # module -> (distribution, version)
        self.restored: set[Snapshot] = set()


_loaded = _Loaded()


# --------------------------------------------------------------------------- loading

def activate(specs: Sequence[str] = ()) -> None:
    """Load the installed entry points (once), then MDLBENCH_PLUGINS, then `specs`."""
    load_entry_points()
    for spec in [*env_specs(), *specs]:
        load(spec)


def env_specs() -> list[str]:
    return [s.strip() for s in os.environ.get(ENV, "").split(":") if s.strip()]


def load(spec: str) -> types.ModuleType:
    """A plugin by file path (``plug.py``, ``dir/plug.py``) or module name (``pkg.codecs``)."""
    if spec.endswith(".py") or "/" in spec or os.sep in spec:
        return load_file(Path(spec), spec)
    return load_module(spec)


def load_file(path: Path, label: str | None = None) -> types.ModuleType:
    """Execute a plugin file as a module of its own; again only if the file changed since (its
    classes then replace their earlier versions: same module)."""
    label = label or str(path)
    full = path.expanduser().resolve()
    if not full.is_file():
        raise UsageError(f"plugin {label}: no such file")
    if full.suffix != ".py":
        raise UsageError(f"plugin {label}: not a .py file (or give a module name)")
    name = f"mdlbench_plugin_{_ident(full.stem)}_{hashlib.sha1(str(full).encode()).hexdigest()[:8]}"
    code = sha(full.read_bytes())
    if _loaded.files.get(full) == code:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, full)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    _loaded.modules[name] = full
    old = registry.withdraw(name)  # an edited file: its new classes replace the old ones
    try:
        with _blame(label), _registers(name):
            spec.loader.exec_module(module)
    except UsageError:
        registry.withdraw(name)
        registry.put_back(old)
        if previous is None:
            del sys.modules[name], _loaded.modules[name]
        else:
            sys.modules[name] = previous
        raise
    _loaded.files[full] = code
    return module


def load_module(name: str) -> types.ModuleType:
    if not _MODULE.match(name):
        raise UsageError(f"plugin {name}: neither a .py file nor a module name")
    with _blame(name):
        if importlib.util.find_spec(name.partition(".")[0]) is None and \
                os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())  # `mdlbench --plugin mine` finds ./mine.py
        if importlib.util.find_spec(name.partition(".")[0]) is None:
            raise UsageError(f"no module named {name!r} here: give a .py file's path, or put "
                             f"the module on PYTHONPATH")
        with _registers(name):
            return importlib.import_module(name)


def load_entry_points() -> None:
    """Register what installed packages declare in the `mdlbench.*` entry-point groups."""
    if _loaded.entry_points:
        return
    for group, what in GROUPS.items():
        for ep in importlib.metadata.entry_points(group=group):
            dist = getattr(ep, "dist", None)
            label = f"{dist.name if dist else '?'} (entry point {ep.name} = {ep.value})"
            with _blame(label):
                obj = ep.load()
                module = obj.__name__ if inspect.ismodule(obj) else home(obj)
                if dist is not None:
                    _loaded.dists[module] = (dist.name, dist.version)
                if inspect.ismodule(obj):
                    with _registers(module):
                        pass
                else:
                    _register(what, obj)
    _loaded.entry_points = True


@contextlib.contextmanager
def _blame(label: str) -> Iterator[None]:
    """Any failure inside becomes one UsageError line that names the plugin: a SystemExit or a
    KeyboardInterrupt the plugin raises too (a user's Ctrl-C still stops: mdlbench.interrupt).
    What the plugin prints or writes to file descriptor 1 goes to standard error (standard
    output may be JSON)."""
    from .interrupt import from_user

    try:
        with to_stderr():
            yield
    except UsageError as e:
        msg = str(e)
        raise UsageError(msg if msg.startswith("plugin ") else f"plugin {label}: {msg}") from None
    except Exception as e:  # a plugin's own bug: name it, in one line, without a traceback
        raise UsageError(f"plugin {label}: {type(e).__name__}: {e}") from None
    except BaseException as e:  # sys.exit() at import: the plugin's failure, not the run's end
        if from_user(e):
            raise
        raise UsageError(f"plugin {label}: {type(e).__name__}({e}) on import: a plugin must "
                         f"register its classes, not end the process") from None


@contextlib.contextmanager
def _registers(module: str) -> Iterator[None]:
    """The code inside must register a class, or `module` must have registered one before
    (a module imported earlier); inside `_blame`, which names the plugin."""
    before = {(what, n): registry.code_of(what, c)
              for what, table in registry.tables() for n, c in table.items()}
    yield
    after = {(what, n): registry.code_of(what, c)
             for what, table in registry.tables() for n, c in table.items()}
    new = [k for k, c in after.items() if before.get(k) is not c and not ours(home(c))]
    mine = [k for k, c in after.items() if home(c) == module or home(c).startswith(module + ".")]
    if not new and not mine:
        raise UsageError("it registers no compressor or dataset: decorate a "
                         "Compressor subclass with @mdlbench.compressors.register (a "
                         "DatasetLoader with @mdlbench.datasets.register_dataset)")


def _register(what: str, cls: Any) -> None:
    """An entry point's class into its registry (`what`: compressor or dataset)."""
    registry.register_class(what, cls)


def _ident(text: str) -> str:
    return re.sub(r"\W", "_", text)


# --------------------------------------------------------------------------- provenance

def origin(cls: type) -> dict[str, str] | None:
    """Where a registered class from outside mdlbench comes from (None for mdlbench's own):
    its module, the plugin file, the installed distribution and version, and `sha256` (16 hex
    digits) of its source file, or of its code where it has no file (a notebook)."""
    module = home(cls)
    if ours(module):
        return None
    out = {"module": module}
    file = _loaded.modules.get(module) or registry.source(cls)
    if file is not None:
        out["file"] = str(file)
    dist = _loaded.dists.get(module) or _distribution(module.partition(".")[0])
    if dist is not None:
        out["distribution"], out["version"] = dist
    loaded = _loaded.files.get(file) if file is not None else None  # what was executed
    out["sha256"] = loaded or digest(cls)
    if "version" not in out:
        own = getattr(sys.modules.get(module), "__version__", None)
        out["version"] = own if isinstance(own, str) and own.strip() else f"sha256:{out['sha256']}"
    return out


def version(cls: type) -> str | None:
    """A plugin class's own version: its distribution's, else its module's `__version__`,
    else `sha256:` and the digest of its file (never "unknown"); None for mdlbench's own."""
    src = origin(cls)
    return None if src is None else src["version"]


def key(cls: type) -> str | None:
    """A plugin class's part of the cell key: its file's name (its module's for a package),
    the distribution's version, and the digest; the same wherever the plugin's file lies."""
    src = origin(cls)
    if src is None:
        return None
    name = Path(src.get("file", "__init__.py")).name
    where = src["module"] if name == "__init__.py" else name
    version = f"=={src['version']}" if "distribution" in src else ""
    return f"{where}{version}:{src['sha256']}"


def _distribution(top: str) -> tuple[str, str] | None:
    names = _packages(tuple(sys.path)).get(top)
    if not names:
        return None
    try:
        return names[0], importlib.metadata.version(names[0])
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=4)
def _packages(_path: tuple[str, ...]) -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


# --------------------------------------------------------------------------- workers

@dataclass(frozen=True)
class Snapshot:
    """The plugin entries of every registry a driver knows, as a worker can rebuild them:
    (what, how, where, name, qualname) entries, how = "file" (a plugin file's path) or
    "module" (a module name, found under one of `roots`), and `values`: cloudpickled
    (what, name, entry) triples for what no worker can import (`__main__`, a notebook)."""

    entries: tuple[tuple[str, str, str, str, str], ...] = ()
    roots: tuple[str, ...] = ()
    values: bytes = b""


def snapshot() -> Snapshot:
    """What a worker must restore to know every plugin entry registered here now."""
    return _snapshot(tuple((what, n, id(c)) for what, t in registry.tables()
                           for n, c in t.items()))


@functools.lru_cache(maxsize=8)
def _snapshot(_key: tuple[tuple[str, str, int], ...]) -> Snapshot:
    entries, roots, shipped = [], [], []
    for what, table in registry.tables():
        for name, entry in sorted(table.items()):
            code = registry.code_of(what, entry)
            module = home(code)
            if ours(module):
                continue
            if module in _loaded.modules:
                entries.append((what, "file", str(_loaded.modules[module]), name,
                                code.__qualname__))
            elif _importable(module, code):
                entries.append((what, "module", module, name, code.__qualname__))
                root = _root(sys.modules[module])
                if root is not None and root not in roots:
                    roots.append(root)
            else:
                shipped.append((what, name, entry))
    values = b""
    if shipped:
        import cloudpickle

        values = cloudpickle.dumps(shipped)
    return Snapshot(tuple(entries), tuple(roots), values)


def _importable(module: str, code: Any) -> bool:
    mod = sys.modules.get(module)
    if module == registry.MAIN or mod is None or getattr(mod, "__spec__", None) is None:
        return False
    return _attr(mod, code.__qualname__) is code


def _attr(module: types.ModuleType, qualname: str) -> Any:
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _root(module: types.ModuleType) -> str | None:
    """The sys.path folder a module was imported from."""
    file = getattr(module, "__file__", None)
    if file is None:
        return None
    depth = module.__name__.count(".") + (Path(file).name == "__init__.py")
    return str(Path(file).resolve().parents[depth])


def restore(snap: Snapshot) -> None:
    """Register in this (worker) process what `snap` holds; once per snapshot. Importing a
    module (or file) registers what it decorates; a class that an entry point named (not
    decorated) is registered here."""
    if snap in _loaded.restored or not (snap.entries or snap.values):
        return
    for root in snap.roots:
        if root not in sys.path:
            sys.path.append(root)
    for what, how, where, name, qualname in snap.entries:
        module = load_file(Path(where)) if how == "file" else None
        with _blame(where):
            module = module or importlib.import_module(where)
            code = _attr(module, qualname)
            if code is None:
                raise UsageError(f"{where} no longer defines {qualname}")
            if name not in registry.table(what):  # an entry point's class, not decorated
                if not inspect.isclass(code):
                    raise UsageError(f"{where} no longer registers {what} {name!r}")
                registry.add(what, name, code)
    if snap.values:
        import cloudpickle

        with _blame("entries sent by value (registered in __main__)"):
            for what, name, entry in cloudpickle.loads(snap.values):
                registry.add(what, name, entry)
    _loaded.restored.add(snap)
