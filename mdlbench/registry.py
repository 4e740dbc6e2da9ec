"""Adding a class to a registry by name: the one rule for compressors and datasets alike.

A name belongs to the module that registered it first. The same module registering it again
replaces the entry (a notebook cell run twice, a plugin loaded again, a worker restoring what
its driver had); another module registering it is an error that names both, since silently
taking either one would measure the wrong coder.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, TypeVar

from .errors import UsageError

T = TypeVar("T", bound=type)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
MAIN = "__main__"


def home(cls: type) -> str:
    """The module a class comes from; a script's `__main__` is `__mp_main__` again in a spawned
    worker, and both are the same module here."""
    module = getattr(cls, "__module__", None) or "?"
    return MAIN if module == "__mp_main__" else module


def add(table: dict[str, Any], cls: T, base: type, what: str) -> T:
    """Register `cls` (a concrete subclass of `base` with a `name`) in `table`."""
    if not (inspect.isclass(cls) and issubclass(cls, base)):
        raise UsageError(f"cannot register {cls!r}: not a {base.__name__} subclass")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"cannot register {cls.__qualname__} from {home(cls)}: its `name` "
                         f"({name!r}) must be a letter followed by letters, digits, _ or -")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise UsageError(f"cannot register {what} {name!r} from {home(cls)}: {cls.__qualname__} "
                         f"does not implement {missing}")
    old = table.get(name)
    if old is not None and home(old) != home(cls):
        raise UsageError(f"{what} {name!r} is registered by {home(old)} and again by "
                         f"{home(cls)}: rename one of them")
    table[name] = cls
    return cls
