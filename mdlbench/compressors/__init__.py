"""Compressor registry. Importing this package imports every module in it (and in its
subpackages), so each compressor registers itself with `@register`: adding one is adding a file."""

import importlib
import pkgutil

from .base import REGISTRY, Compressor, Encoded, create, create_all, register

for _m in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
    importlib.import_module(_m.name)

__all__ = ["REGISTRY", "Compressor", "Encoded", "create", "create_all", "register"]
