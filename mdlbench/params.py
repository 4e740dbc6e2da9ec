"""Declared parameters: one description per parameter drives `list`, parsing, validation and
canonical spec strings, so they never drift apart (lzbench's codec table, in Python)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import UsageError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One parameter of a compressor or dataset: type, default, bounds and a line of help."""

    name: str
    type: type
    default: Any
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    finite: bool = True
    """Float parameters refuse nan and ±inf unless this is False: a NaN compares false with
    every bound, so it would pass min/max and reach the model."""

    def convert(self, raw: Any, owner: str) -> Any:
        """Turn a raw value (string from a spec, or a Python value) into a checked value."""
        where = f"{owner}: parameter {self.name}"
        try:
            if self.type is bool:
                if isinstance(raw, bool):
                    value: Any = raw
                elif str(raw).lower() in _TRUE:
                    value = True
                elif str(raw).lower() in _FALSE:
                    value = False
                else:
                    raise ValueError
            elif self.type is int:
                if isinstance(raw, float) and not raw.is_integer():
                    raise ValueError
                text = str(raw).replace("_", "")
                value = int(float(text)) if ("e" in text.lower() and "." not in text) else int(text)
            elif self.type is float:
                value = float(raw)
                if self.finite and not math.isfinite(value):
                    raise UsageError(f"{where}: {raw!r} is not a finite number")
            else:
                value = str(raw)
        except (TypeError, ValueError, OverflowError):  # OverflowError: int("1e999")
            raise UsageError(f"{where}: {raw!r} is not a valid {self.type.__name__}") from None
        if self.choices is not None and value not in self.choices:
            opts = "|".join(str(c) for c in self.choices)
            raise UsageError(f"{where}: {value!r} is not one of {opts}")
        if self.min is not None and value < self.min:
            raise UsageError(f"{where}: {value} is below the minimum {self.min}")
        if self.max is not None and value > self.max:
            raise UsageError(f"{where}: {value} is above the maximum {self.max}")
        return value

    def describe(self) -> str:
        """Human summary for `mdlbench list`: default and allowed values."""
        if self.choices is not None:
            allowed = "|".join(str(c) for c in self.choices)
        elif self.min is not None or self.max is not None:
            lo = "" if self.min is None else _fmt(self.min)
            hi = "" if self.max is None else _fmt(self.max)
            allowed = f"{lo}..{hi}"
        else:
            allowed = self.type.__name__
        return f"{self.name}={_fmt(self.default)} ({allowed})"


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def check_declared(params: Any, owner: str) -> None:
    """A class's declared `params` (a plugin's are checked when it registers): a tuple of
    Params with distinct names, each default a value the parameter itself accepts."""
    if not isinstance(params, tuple) or not all(isinstance(p, Param) for p in params):
        raise UsageError(f"{owner}: params must be a tuple of mdlbench.params.Param, "
                         f"not {params!r:.60}")
    names = [p.name for p in params]
    for p in params:
        if not isinstance(p.name, str) or names.count(p.name) > 1:
            raise UsageError(f"{owner}: parameter name {p.name!r} is not a string declared once")
        if p.default is not None and p.convert(p.default, owner) != p.default:
            raise UsageError(f"{owner}: parameter {p.name}'s default {p.default!r} is not "
                             f"a {p.type.__name__}")


def resolve(params: Sequence[Param], given: dict[str, Any], owner: str) -> dict[str, Any]:
    """Check names and values of `given` against `params`; fill in defaults."""
    known = {p.name: p for p in params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(known) or "none"
        raise UsageError(f"{owner}: unknown parameter {unknown[0]!r} (known: {names})")
    return {p.name: p.convert(given[p.name], owner) if p.name in given else p.default for p in params}


def canonical(name: str, params: Sequence[Param], values: dict[str, Any]) -> str:
    """The canonical spec string: name plus non-default values in declared order."""
    parts = [f"{p.name}={_fmt(values[p.name])}" for p in params if values[p.name] != p.default]
    return name + (":" + ",".join(parts) if parts else "")
