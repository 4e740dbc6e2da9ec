"""Probes for coding labels given inputs: the registry that `preq` and `twopart` look up.

Voita & Titov measure what a representation holds by the MDL of a *probe* trained on it; which
probe is the user's choice. A probe is a function `(d, k, cfg) -> torch.nn.Module` that maps
(n, d) float32 features to (n, k) logits; `cfg` is the coder's `classifiers.TrainConfig`
(hidden, layers, ...). Registering one by name makes `preq:model=NAME` and `twopart:model=NAME`
train it with the same deterministic routine as the built-in ones, on both the encoder's and the
decoder's side:

    from mdlbench.models.probes import register_probe

    @register_probe("bilinear", summary="...", uses=("hidden",))
    def bilinear(d, k, cfg):
        ...  # return an nn.Module

A user's plugin module does this when it is imported (`--plugin`); `uses` names the shared
training parameters the probe reads, so a spec that sets another one is refused rather than
silently ignored. This module does not import torch: the factories do, when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import registry
from ..errors import UsageError

SHAPE_PARAMS = ("hidden", "layers")
"""Spec parameters that shape a probe (the others, epochs, lr, ..., shape its training)."""


@dataclass(frozen=True)
class Probe:
    name: str
    build: Callable[[int, int, Any], Any]
    summary: str = ""
    uses: tuple[str, ...] = ()
    """Which of SHAPE_PARAMS the factory reads."""


PROBES: dict[str, Probe] = registry.table("probe", code=lambda p: p.build)
"""Name -> Probe; a probe is defined by its factory function (for the registration rule)."""


def register_probe(name: str, *, summary: str = "",
                   uses: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Decorator: register a probe factory under `name` (the one rule of mdlbench/registry.py:
    the same factory again is a no-op, another under a taken name an error naming both)."""
    unknown = sorted(set(uses) - set(SHAPE_PARAMS))
    if unknown:
        raise UsageError(f"probe {name!r}: uses names no probe parameter {unknown[0]!r} "
                         f"(known: {', '.join(SHAPE_PARAMS)})")

    def register(fn: Callable) -> Callable:
        registry.add("probe", name, Probe(name, fn, summary, tuple(uses)))
        return fn

    return register


def get(name: str) -> Probe:
    probe = PROBES.get(name)
    if probe is None:
        raise UsageError(f"unknown probe {name!r} (registered: {', '.join(sorted(PROBES))}; a "
                         f"plugin module registers its own with mdlbench.models.probes."
                         f"register_probe)")
    return probe


@register_probe("logreg", summary="logistic regression: one linear layer")
def logreg(d: int, k: int, cfg: Any) -> Any:
    from torch import nn

    return nn.Linear(d, k)


@register_probe("mlp", summary="ReLU MLP: `layers` hidden layers of `hidden` units",
                uses=("hidden", "layers"))
def mlp(d: int, k: int, cfg: Any) -> Any:
    from torch import nn

    mods: list[nn.Module] = []
    width = d
    for _ in range(cfg.layers):
        mods += [nn.Linear(width, cfg.hidden), nn.ReLU()]
        width = cfg.hidden
    mods.append(nn.Linear(width, k))
    return nn.Sequential(*mods)
