"""One syntax for compressor and dataset specs: ``name:key=value,key=value``.

Values may be ranges ``a..b`` (inclusive integers, lzbench's level sweeps), which `expand`
turns into one spec per value. Parsing is purely syntactic; each registry validates values
against the parameters its entries declare, so errors name the real parameter.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .errors import UsageError

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")


@dataclass(frozen=True)
class Spec:
    """A parsed spec: a registry name and raw string parameters in the order given."""

    name: str
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in self.params)

    @property
    def kwargs(self) -> dict[str, str]:
        return dict(self.params)


def parse(text: str) -> Spec:
    """Parse ``name[:k=v[,k=v...]]``; raise UsageError naming the bad part."""
    text = text.strip()
    if not text:
        raise UsageError("empty spec")
    name, _, rest = text.partition(":")
    if not _NAME.match(name):
        raise UsageError(f"bad spec {text!r}: {name!r} is not a valid name")
    params: list[tuple[str, str]] = []
    seen: set[str] = set()
    if rest.strip():
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or not key or not value:
                raise UsageError(f"bad spec {text!r}: expected key=value, got {item!r}")
            if key in seen:
                raise UsageError(f"bad spec {text!r}: parameter {key!r} given twice")
            seen.add(key)
            params.append((key, value))
    return Spec(name, tuple(params))


def count(text: str) -> int:
    """How many specs `expand(text)` gives, computed from the ranges (nothing is built)."""
    n = 1
    for _key, value in parse(text).params:
        m = _RANGE.match(value)
        if m:
            n *= max(0, int(m.group(2)) - int(m.group(1)) + 1)
    return n


def expand(text: str) -> list[Spec]:
    """Parse a spec and expand every ``a..b`` range value into separate specs."""
    spec = parse(text)
    choices: list[list[str]] = []
    for key, value in spec.params:
        m = _RANGE.match(value)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise UsageError(f"bad range {key}={value}: start is after end")
            if hi - lo >= 1000:
                raise UsageError(f"bad range {key}={value}: more than 1000 values")
            choices.append([str(v) for v in range(lo, hi + 1)])
        else:
            choices.append([value])
    keys = [k for k, _ in spec.params]
    return [Spec(spec.name, tuple(zip(keys, combo, strict=True))) for combo in itertools.product(*choices)]
