"""Compressor registry: one module per spec name (plus classical.py's several codecs), each
registering its classes with `@register` when imported. Modules are imported on demand: a
lookup of `mix` imports mix.py, a name with no module of its own, or a listing of the whole
registry, imports them all (adding a codec is adding a file)."""

import importlib
import pkgutil

from .. import registry
from .base import NOTHING_GIVEN, Compressor, Encoded, Given, register
from .lookup import REGISTRY, create, create_all


def _load(name: str | None) -> None:
    """Import the module of spec `name`, or (None) every module of this package."""
    if name is not None:
        if name in {m.name for m in pkgutil.iter_modules(__path__)}:
            importlib.import_module(f"{__name__}.{name}")
        return
    for m in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        importlib.import_module(m.name)


registry.table("compressor", loader=_load)

__all__ = ["NOTHING_GIVEN", "REGISTRY", "Compressor", "Encoded", "Given", "create", "create_all",
           "register"]
