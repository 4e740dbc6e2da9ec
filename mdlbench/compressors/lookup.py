"""Finding a compressor by spec: the registry's table and `create`, beside the protocol
(base.py), so that the plugin machinery it calls never needs the protocol."""

from __future__ import annotations

import re
from typing import Any

from .. import registry
from .. import spec as specmod
from ..errors import UsageError

REGISTRY: dict[str, Any] = registry.table("compressor")
"""Name -> Compressor subclass, filled by `@register` (base.py)."""

_FAMILY = re.compile(r"^family=([A-Za-z][A-Za-z0-9_\-]*)$")


def create(text: str | specmod.Spec, **overrides: Any) -> Any:
    """Build a compressor from a spec string (no ranges); unknown names and values raise.
    `overrides` fill parameters the spec leaves out, where the coder has them."""
    s = specmod.parse(text) if isinstance(text, str) else text
    cls = REGISTRY.get(s.name)
    if cls is None:
        from .. import plugins  # plugins depend on the registry, not the other way

        plugins.load_entry_points()  # a Python caller who never went through api or the CLI
        cls = REGISTRY.get(s.name)
    if cls is None:
        known = ", ".join(sorted(REGISTRY))
        raise UsageError(f"unknown compressor {s.name!r} (known: {known})")
    kwargs: dict[str, Any] = dict(s.kwargs)
    for key, value in overrides.items():
        if any(p.name == key for p in cls.params):
            kwargs.setdefault(key, value)
    return cls(**kwargs)


def create_all(texts: list[str], **overrides: Any) -> list[Any]:
    """Expand ranges (``zstd:level=1..22``) and build every compressor, validating all first."""
    return [create(s, **overrides) for t in texts for s in expand(t)]


def unfold(text: str) -> list[str]:
    """A compressor spec as the specs it stands for, ranges left as written: ``family=F`` is
    every installed compressor of family F at its defaults (`family`), any other spec itself."""
    m = _FAMILY.match(text.strip())
    return [str(s) for s in family(m.group(1))] if m else [text]


def expand(text: str) -> list[specmod.Spec]:
    """`spec.expand` for compressors: ``family=F`` too (`unfold`)."""
    return [s for t in unfold(text) for s in specmod.expand(t)]


def family(name: str) -> list[specmod.Spec]:
    """The compressors of a family (`mdlbench list` shows each one's) whose bindings are
    installed, by name: `-c family=classical` runs every classical codec at its defaults."""
    from .binding import installed  # only here: a run of one coder loads no binding code

    members = sorted(n for n, cls in REGISTRY.items() if cls.family == name and installed(cls))
    if not members:
        known = ", ".join(sorted({cls.family for cls in REGISTRY.values()}))
        raise UsageError(f"no installed compressor of family {name!r} (families: {known})")
    return [specmod.Spec(n) for n in members]
