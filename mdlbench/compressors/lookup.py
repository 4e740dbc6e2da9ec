"""Finding a compressor by spec: the registry's table and `create`, beside the protocol
(base.py), so that the plugin machinery it calls never needs the protocol."""

from __future__ import annotations

from typing import Any

from .. import registry
from .. import spec as specmod
from ..errors import UsageError

REGISTRY: dict[str, Any] = registry.table("compressor")
"""Name -> Compressor subclass, filled by `@register` (base.py)."""


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
    return [create(s, **overrides) for t in texts for s in specmod.expand(t)]
