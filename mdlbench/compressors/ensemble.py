"""`ensemble`: code with an online Bayesian mixture of other coders' predictions.

`ensemble:of=mix+lstm` builds each member with its default parameters (or with its own ones:
`of=lstm[hidden=64;layers=2]+kt[order=2]`, parameters separated by `;`), asks each for its
`step_model(alphabet, streams)`, and codes every byte under

    p(x) = Σ_m w_m p_m(x),   then   w_m ← w_m p_m(x) / Σ_j w_j p_j(x)          (Bayes)
                             and    w_m ← (1 - α) w_m + α / M                   (fixed share)

with w_m = 1/M at the start and α = `switch` (Herbster & Warmuth's fixed share: the mixture can
follow whichever member is ahead *now*). With α = 0 this is the plain Bayes mixture, whose code
length on a sequence is at most the best member's plus log2 M bits.

Layout: the same B contiguous lockstep streams as the neural coders (coding/streams.py), so
constriction gets all B mixed distributions in one call. Weights are kept per stream (each
stream is its own sequence), so the Bayes bound on the whole input is
Σ_b min_m L_{m,b} + B·log2 M ≤ min_m L_m + B·log2 M; extras report each member's ideal bits
beside the mixture's, and that bound. Weights live in the log domain (no underflow).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..coding.core import PROB_FLOOR
from ..coding.streams import StreamCode, coarsen
from ..errors import UsageError
from ..params import Param
from .base import REGISTRY, create, register
from .lockstep import LockstepCoder

_MEMBER = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*)(?:\[([^\[\]]*)\])?$")


def member_specs(of: str) -> list[str]:
    """'lstm[hidden=64;layers=2]+kt' -> ['lstm:hidden=64,layers=2', 'kt']."""
    out = []
    for part in of.split("+"):
        m = _MEMBER.match(part.strip())
        if not m:
            raise UsageError(f"ensemble: bad member {part!r} in of={of!r} "
                             "(expected name or name[key=value;...], joined by +)")
        name, args = m.group(1), m.group(2)
        out.append(name + (":" + args.replace(";", ",") if args else ""))
    return out


class MixtureStep:
    """A StepModel over B streams mixing member StepModels with per-stream weights."""

    def __init__(self, members: list[Any], switch: float) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = members
        self.alphabet, self.streams = members[0].alphabet, members[0].streams
        if any((m.alphabet, m.streams) != (self.alphabet, self.streams) for m in members):
            raise ValueError("members must share alphabet and number of streams")
        self.switch = switch
        k = len(members)
        self.logw = np.full((self.streams, k), -math.log(k))
        self.member_bits = np.zeros((self.streams, k))  # Σ -log2 p_m per stream and member
        self._p: np.ndarray | None = None

    def predict(self) -> np.ndarray:
        p = np.stack([np.asarray(m.predict(), dtype=np.float64) for m in self.members], 1)
        p /= p.sum(axis=2, keepdims=True)  # (B, M, K), each member normalised
        np.maximum(p, PROB_FLOOR, out=p)
        self._p = p
        w = np.exp(self.logw)
        return np.einsum("bm,bmk->bk", w, p)

    def _observe(self, symbols: np.ndarray) -> np.ndarray:
        k = len(symbols)
        ps = self._p[np.arange(k), :, symbols]  # (k, M): each member's p of the true symbol
        self.member_bits[:k] -= np.log2(ps)
        return ps

    def tail(self, symbols: np.ndarray) -> None:
        """The ragged last step's coded symbols (streams 0..k-1); no update follows."""
        self._observe(np.asarray(symbols, dtype=np.int64))

    def update(self, symbols: np.ndarray) -> None:
        symbols = np.asarray(symbols, dtype=np.int64)
        logw = self.logw + np.log(self._observe(symbols))
        top = logw.max(axis=1, keepdims=True)
        logw -= top + np.log(np.exp(logw - top).sum(axis=1, keepdims=True))
        if self.switch > 0:
            m = logw.shape[1]
            logw = np.log((1.0 - self.switch) * np.exp(logw) + self.switch / m)
        self.logw = logw
        for member in self.members:
            member.update(symbols)


@register
class EnsembleCoder(LockstepCoder):
    name = "ensemble"
    family = "ensemble"
    summary = "online Bayesian mixture (fixed-share switching) of other coders' predictions"
    library = "torch"
    stochastic = True
    params = (
        Param("of", str, "mix+lstm", "members joined by + (name or name[k=v;k=v])"),
        Param("switch", float, 1e-3, "fixed-share rate per symbol (0: plain Bayes mixture)",
              min=0.0, max=1.0),
        Param("streams", int, 16, "parallel streams coded in lockstep (B)", min=1, max=65536),
        Param("seed", int, 0, "seed handed to members that take one", min=0, max=2**31 - 1),
        Param("device", str, "cpu", "device for neural members", choices=("cpu", "cuda", "auto")),
        Param("threads", int, 1, "torch CPU threads for neural members", min=1, max=256),
        Param("coder", str, "range", "entropy coder", choices=("range", "ans")),
    )

    def validate(self) -> None:
        self.members()

    def members(self) -> list[Any]:
        c = self.config
        comps = []
        for spec in member_specs(c["of"]):
            name = spec.partition(":")[0]
            if name not in REGISTRY:
                known = ", ".join(n for n in sorted(REGISTRY) if hasattr(REGISTRY[n], "step_model"))
                raise UsageError(f"ensemble: unknown member {name!r} (coders with a step model: "
                                 f"{known})")
            if not hasattr(REGISTRY[name], "step_model"):
                raise UsageError(f"ensemble: {name!r} has no step model, so it cannot be mixed")
            comps.append(create(spec, seed=c["seed"], device=c["device"], threads=c["threads"]))
        return comps

    @property
    def uses_torch(self) -> bool:
        return any(getattr(m, "uses_torch", False) for m in self.members())

    def step_model(self, alphabet: int, streams: int) -> MixtureStep:
        return MixtureStep([m.step_model(alphabet, streams) for m in self.members()],
                           self.config["switch"])

    def report(self, model: MixtureStep | None, code: StreamCode | None, streams: int,
               device: str) -> dict[str, Any]:
        comps = self.members()
        if model is None or code is None:
            return {"members": {m.spec: 0.0 for m in comps}}
        specs = [m.spec for m in comps]
        names = [f"{i}:{s}" if specs.count(s) > 1 else s for i, s in enumerate(specs)]
        extras: dict[str, Any] = {
            "members": dict(zip(names, model.member_bits.sum(axis=0).tolist(), strict=True)),
            "mixture_bits_ideal": code.bits_ideal,
            "weights": dict(zip(names, np.exp(model.logw).mean(axis=0).tolist(), strict=True)),
            "streams": streams,
            "segments": coarsen(code.segments),
        }
        if self.config["switch"] == 0:
            extras["bayes_bound_bits"] = float(model.member_bits.min(axis=1).sum()
                                               + streams * math.log2(len(comps)))
        return extras
