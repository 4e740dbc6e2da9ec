"""What a result records about the coder that made it: its spec, library version, plugin
origin and pretrained model (kept out of the codec protocol, which only codes)."""

from __future__ import annotations

from typing import Any


def version(comp: Any) -> str:
    """The version a record states: the codec library's; a plugin's own (plugins.version: its
    distribution's, `__version__` or file digest) where it names no installed library."""
    from .. import plugins

    own = plugins.version(type(comp))
    found = comp.version()
    return found if own is None or (comp.library and found != "unknown") else own


def describe(comp: Any) -> dict[str, Any]:
    """A compressor as its records show it."""
    from .. import plugins  # a record's work only: a codec run alone does not load it

    return {
        "name": comp.name,
        "spec": comp.spec,
        "family": comp.family,
        "summary": comp.summary,
        "params": dict(comp.config),
        "library": comp.library or "mdlbench",
        "version": version(comp),
        "plugin": plugins.origin(type(comp)),
        "model": comp.pretrained(),
    }
