"""The registries by name (compressors, datasets, probes) and their one registration rule.

Registering the same class (or probe factory) again is a no-op: the same object, or the same
definition again (same module, name and code: a module imported twice, a worker restoring
what its driver had). Another one under a name already taken is a UsageError naming both,
from another module or the same one, since silently taking either would measure the wrong
coder. A plugin file edited and loaded again withdraws its old entries first (`withdraw`).

Every registry is a table made here by `table(what)`, so the plugin machinery (plugins.py)
sees all of them without importing the modules that define them.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .errors import UsageError
from .params import check_declared

T = TypeVar("T")

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
MAIN = "__main__"

class Table(dict):  # type: ignore[type-arg]
    """A registry, filled on demand: with a `loader`, looking up a missing name first calls
    `loader(name)` (import the module of that spec name), then `loader(None)` (import them all),
    and reading the whole table imports them all; so a run imports the coders it uses only."""

    def __init__(self) -> None:
        super().__init__()
        self.loader: Callable[[str | None], None] | None = None
        self._complete = False
        self._busy = False

    def _load(self, name: str | None) -> None:
        if self.loader is None or self._complete or self._busy:
            return
        self._busy = True
        try:
            self.loader(name)
            if name is None or not dict.__contains__(self, name):
                self.loader(None)
                self._complete = True
        finally:
            self._busy = False

    def __contains__(self, name: object) -> bool:
        if not dict.__contains__(self, name) and isinstance(name, str):
            self._load(name)
        return dict.__contains__(self, name)

    def __getitem__(self, name: str) -> Any:
        self.__contains__(name)
        return dict.__getitem__(self, name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self.__contains__(name)
        return dict.get(self, name, default)


def _whole(method: str) -> Callable[..., Any]:
    """A dict method that reads the whole table: every module that registers is imported first."""
    plain = getattr(dict, method)

    def read(self: Table) -> Any:
        self._load(None)
        return plain(self)

    read.__name__ = method
    return read


for _method in ("__iter__", "__len__", "keys", "values", "items"):
    setattr(Table, _method, _whole(_method))


_TABLES: dict[str, Table] = {}
_BASES: dict[str, type | None] = {}
_CODE: dict[str, Callable[[Any], Any]] = {}


def table(what: str, base: type | None = None, code: Callable[[Any], Any] | None = None,
          loader: Callable[[str | None], None] | None = None) -> Table:
    """The registry of `what` (made on first use). `base`: the class every entry subclasses;
    `code`: the class or function that defines an entry (default: the entry itself); `loader`:
    imports what registers a name (see `Table`)."""
    if base is not None:
        _BASES[what] = base
    if code is not None:
        _CODE[what] = code
    reg = _TABLES.setdefault(what, Table())
    if loader is not None:
        reg.loader = loader
    return reg


def tables() -> list[tuple[str, dict[str, Any]]]:
    """Every registry made so far, by kind."""
    return sorted(_TABLES.items())


def home(obj: Any) -> str:
    """The module a class or function comes from; a script's `__main__` is `__mp_main__` again
    in a spawned worker, and both are the same module here."""
    module = getattr(obj, "__module__", None) or "?"
    return MAIN if module == "__mp_main__" else module


def code_of(what: str, entry: Any) -> Any:
    """The class or function that defines a registry entry."""
    return _CODE.get(what, lambda e: e)(entry)


def add(what: str, name: str, entry: T) -> T:
    """Register `entry` under `name` in the registry of `what`: the one rule (module docstring)."""
    reg = table(what)
    defn = code_of(what, entry)
    where = f"{getattr(defn, '__qualname__', repr(defn))} from {home(defn)}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"cannot register {where}: its name ({name!r}) must be a letter "
                         f"followed by letters, digits, _ or -")
    base = _BASES.get(what)
    if base is not None:
        if not (inspect.isclass(entry) and issubclass(entry, base)):
            raise UsageError(f"cannot register {entry!r}: not a {base.__name__} subclass")
        if inspect.isabstract(entry):
            missing = ", ".join(sorted(entry.__abstractmethods__))
            raise UsageError(f"cannot register {what} {name!r} from {home(entry)}: "
                             f"{entry.__qualname__} does not implement {missing}")
    _check_declared(entry, f"{what} {name!r} from {home(defn)}")
    old = dict.get(reg, name)
    if old is None:
        reg[name] = entry
    elif not same(code_of(what, old), defn):
        old_defn = code_of(what, old)
        raise UsageError(f"{what} {name!r} is registered by {home(old_defn)} "
                         f"({old_defn.__qualname__}) and again by {home(defn)} "
                         f"({defn.__qualname__}): rename one of them")
    return entry


def _check_declared(entry: Any, owner: str) -> None:
    """What a registered class declares (its parameters and the text `list` shows) has the
    types the rest of mdlbench reads it with: a plugin's junk is refused as it registers."""
    if not inspect.isclass(entry):
        return
    for attr in ("summary", "family", "kind", "library"):
        value = getattr(entry, attr, "")
        if not (isinstance(value, str) or (attr == "library" and value is None)):
            raise UsageError(f"cannot register {owner}: its {attr} must be a string, "
                             f"not {value!r:.60}")
    if hasattr(entry, "params"):
        check_declared(entry.params, f"cannot register {owner}")


def register_class(what: str, cls: T) -> T:
    """`add` under the class's own `name` attribute (compressors, datasets)."""
    return add(what, getattr(cls, "name", None), cls)  # type: ignore[arg-type]


def withdraw(module: str) -> list[tuple[str, str, Any]]:
    """Remove every entry a module registered (a plugin file about to be loaded again);
    returns them, for `put_back` if the new version fails."""
    out = []
    for what, reg in tables():
        for name in [n for n, e in reg.items() if home(code_of(what, e)) == module]:
            out.append((what, name, reg.pop(name)))
    return out


def put_back(entries: list[tuple[str, str, Any]]) -> None:
    for what, name, entry in entries:
        table(what)[name] = entry


def same(a: Any, b: Any) -> bool:
    """Whether two classes or functions are one definition: the same object, or the same
    module, name and code (`digest`)."""
    if a is b:
        return True
    return (home(a) == home(b) and getattr(a, "__qualname__", None) == getattr(b, "__qualname__", 0)
            and digest(a) == digest(b))


# --------------------------------------------------------------------------- code digests

def source(obj: Any) -> Path | None:
    """The file a class or function was defined in (None for a notebook's or `__main__`'s)."""
    if home(obj) == MAIN:
        return None
    try:
        src = inspect.getsourcefile(obj)
    except TypeError:
        return None
    return Path(src).resolve() if src is not None and Path(src).is_file() else None


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def digest(obj: Any) -> str:
    """Hash of a class's (or function's) source file; of its code (and its bases' outside
    mdlbench) where it has no file of its own, as in a notebook or a class shipped to a worker
    by value."""
    src = source(obj)
    if src is not None:
        return sha(src.read_bytes())
    h = hashlib.sha256()
    if not inspect.isclass(obj):
        h.update(b"".join(_code_bytes(obj)))
        return h.hexdigest()[:16]
    for c in obj.__mro__:
        if ours(home(c)) or c.__module__ in ("builtins", "abc"):
            continue
        h.update(c.__qualname__.encode())
        for key, value in sorted(vars(c).items()):
            if key in _SKIP or key.startswith("_abc"):
                continue
            h.update(key.encode() + b"=" + b"".join(_code_bytes(value)) + b";")
    return h.hexdigest()[:16]


def ours(module: str) -> bool:
    return module == "mdlbench" or module.startswith("mdlbench.")


_SKIP = {"__dict__", "__weakref__", "__abstractmethods__", "__module__", "__parameters__"}
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _code_bytes(obj: Any) -> list[bytes]:
    """A process-independent rendering of a class attribute: functions by their bytecode,
    names and constants; other values by their repr without memory addresses."""
    if isinstance(obj, staticmethod | classmethod):
        return _code_bytes(obj.__func__)
    if isinstance(obj, property):
        return [b for f in (obj.fget, obj.fset, obj.fdel) for b in _code_bytes(f)]
    if isinstance(obj, types.FunctionType):
        return _code_bytes(obj.__code__) + [_repr(obj.__defaults__)]
    if isinstance(obj, types.CodeType):
        out = [obj.co_code, repr(obj.co_names).encode(), repr(obj.co_varnames).encode()]
        for const in obj.co_consts:
            out += _code_bytes(const) if isinstance(const, types.CodeType) else [_repr(const)]
        return out
    return [_repr(obj)]


def _repr(value: Any) -> bytes:
    if isinstance(value, frozenset | set):  # set order follows string hashes: per process
        value = sorted(map(repr, value))
    return _ADDRESS.sub("", repr(value)).encode()
