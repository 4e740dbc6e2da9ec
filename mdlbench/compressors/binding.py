"""Codecs whose Python binding is optional (the `codecs` extra). The binding is imported when
the codec is built, never when mdlbench is, so a missing one costs nothing until it is asked
for, and then it is one line that names the install command (exit 2), not an ImportError."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import ClassVar

from ..errors import UsageError
from .base import Compressor

INSTALL = "pip install 'mdlbench[codecs]'"


class NotInstalledError(UsageError):
    """A codec whose binding is not importable here."""


def load(module: str, codec: str) -> ModuleType:
    """The binding module, or NotInstalledError naming the codec and the install line."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise NotInstalledError(f"{codec}: its binding ({module}) is not installed: "
                                f"{INSTALL}") from None


def installed(cls: type[Compressor]) -> bool:
    """Whether every module a codec class imports is there (without importing it)."""
    for module in getattr(cls, "binding", ()) or ():
        try:
            if importlib.util.find_spec(module.split(".")[0]) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


class BindingCodec(Compressor):
    """A codec through an optional binding: construction checks that it imports."""

    binding: ClassVar[tuple[str, ...]] = ()
    """The modules the codec imports; the first is what `lib()` returns."""

    def validate(self) -> None:
        for module in self.binding:
            load(module, self.name)

    def lib(self) -> ModuleType:
        return load(self.binding[0], self.name)
