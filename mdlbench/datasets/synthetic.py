"""Synthetic sources with a known code length: the physical limit every coder is checked against.

Each sample carries `limit_bits` = -log2 P(sample) under the true source, computed exactly, and
for i.i.d. and stationary Markov sources `entropy_bits` = E[-log2 P] (n·H). The i.i.d. and
Markov sources also state their model class (order 0 or k over K symbols, mdlbench.mdl.regret):
the sample's maximum-likelihood code length in it, for every coder's regret, and the NML code
length (exact and Fisher asymptotic) as formula rows. Sampling loops are compiled with numba;
generation is seeded and reproducible across runs.
"""

from __future__ import annotations

from dataclasses import replace

import numba
import numpy as np

from ..errors import UsageError
from ..mdl import regret
from ..params import Param
from .base import Dataset, DatasetLoader, Reference, register_dataset

_N = Param("n", int, 100_000, "number of symbols", min=1, max=1 << 31)
_SEED = Param("seed", int, 0, "generator seed", min=0)
_K = Param("k", int, 4, "alphabet size", min=2, max=256)


def _dirichlet(rng: np.random.Generator, k: int, alpha: float,
               rows: int | None = None) -> np.ndarray:
    """A seeded Dirichlet(alpha) distribution over k symbols (or `rows` of them), floored at
    1e-12 and renormalised so that every symbol has a finite code length."""
    p = np.maximum(rng.dirichlet(np.full(k, alpha), size=rows), 1e-12)
    return p / p.sum(axis=-1, keepdims=True)


def _entropy_rows(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of a probability matrix."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, -p * np.log2(p), 0.0)
    return t.sum(axis=-1)


@numba.njit(cache=True)
def _sample_markov(cum: np.ndarray, u: np.ndarray, ctx0: int, order: int, k: int) -> np.ndarray:
    n = u.shape[0]
    out = np.empty(n, np.uint8)
    nctx = k**order
    ctx = ctx0
    for i in range(order):  # the initial context, most significant symbol first
        out[i] = (ctx0 // k ** (order - 1 - i)) % k
    for t in range(order, n):
        row = cum[ctx]
        s = np.searchsorted(row, u[t], side="right")
        if s >= k:
            s = k - 1
        out[t] = s
        ctx = (ctx * k + s) % nctx
    return out


@numba.njit(cache=True)
def _markov_logp(p: np.ndarray, x: np.ndarray, order: int, k: int) -> float:
    nctx = k**order
    ctx = 0
    for i in range(order):
        ctx = ctx * k + x[i]
    total = 0.0
    for t in range(order, x.shape[0]):
        total += np.log2(p[ctx, x[t]])
        ctx = (ctx * k + x[t]) % nctx
    return total


@numba.njit(cache=True)
def _sample_hmm(trans_cum: np.ndarray, emit_cum: np.ndarray, s0: int, u1: np.ndarray,
                u2: np.ndarray) -> np.ndarray:
    n = u1.shape[0]
    out = np.empty(n, np.uint8)
    s = s0
    ns, k = trans_cum.shape[0], emit_cum.shape[1]
    for t in range(n):
        e = np.searchsorted(emit_cum[s], u1[t], side="right")
        out[t] = min(e, k - 1)
        s = min(np.searchsorted(trans_cum[s], u2[t], side="right"), ns - 1)
    return out


@numba.njit(cache=True)
def _hmm_logp(pi: np.ndarray, trans: np.ndarray, emit: np.ndarray, x: np.ndarray) -> float:
    """Forward algorithm with per-step normalisation: exact log2 P(x) under the HMM."""
    ns = pi.shape[0]
    alpha = pi.copy()
    total = 0.0
    nxt = np.empty(ns)
    for t in range(x.shape[0]):
        z = 0.0
        for i in range(ns):
            alpha[i] *= emit[i, x[t]]
            z += alpha[i]
        total += np.log2(z)
        for j in range(ns):
            nxt[j] = 0.0
        for i in range(ns):
            a = alpha[i] / z
            for j in range(ns):
                nxt[j] += a * trans[i, j]
        alpha[:] = nxt
    return total


def _stationary(p: np.ndarray, order: int, k: int) -> np.ndarray:
    """Stationary distribution over the k^order contexts of an order-k chain (power iteration)."""
    nctx = k**order
    pi = np.full(nctx, 1.0 / nctx)
    nxt_ctx = (np.arange(nctx)[:, None] * k + np.arange(k)[None, :]) % nctx
    for _ in range(10_000):
        new = np.bincount(nxt_ctx.ravel(), weights=(pi[:, None] * p).ravel(), minlength=nctx)
        if np.abs(new - pi).sum() < 1e-13:
            return new
        pi = new
    return pi


def _class_reference(x: np.ndarray, order: int, k: int):
    """The sample's figures in the order-k Markov class over K symbols, computed when asked."""

    def compute() -> Reference:
        ml, rows = regret.markov_figures(x, order, k)
        return Reference(regret.markov_class(order, k), ml, rows)

    return compute


@register_dataset
class Iid(DatasetLoader):
    name = "iid"
    summary = "i.i.d. symbols from a seeded Dirichlet(alpha) distribution over k symbols"
    params = (
        _K,
        _N,
        Param("alpha", float, 1.0, "Dirichlet concentration (small: skewed)", min=1e-3),
        _SEED,
    )

    def memory_bytes(self) -> int:
        return 40 * self.config["n"]  # uniforms and indices (int64), p[x] and its log (float64)

    def load(self) -> Dataset:
        c = self.config
        rng = np.random.default_rng(c["seed"])
        p = _dirichlet(rng, c["k"], c["alpha"])
        x = rng.choice(c["k"], size=c["n"], p=p).astype(np.uint8)
        limit = float(-np.log2(p[x]).sum())
        return self.generated(x, c["k"], limit, entropy_bits=float(c["n"] * _entropy_rows(p)),
                              meta={"probabilities": p.tolist()},
                              references=_class_reference(x, 0, c["k"]))


@register_dataset
class Markov(DatasetLoader):
    name = "markov"
    summary = "order-k Markov chain over k symbols, seeded Dirichlet rows, started stationary"
    params = (
        Param("order", int, 2, "Markov order", min=0, max=8),
        _K,
        _N,
        Param("alpha", float, 0.5, "Dirichlet concentration of each row (small: predictable)",
              min=1e-3),
        _SEED,
    )

    def memory_bytes(self) -> int:
        c = self.config  # n uniforms (float64) and symbols, and three k^order × k tables
        return 10 * c["n"] + 24 * c["k"] ** (c["order"] + 1)

    def load(self) -> Dataset:
        c = self.config
        order, k, n = c["order"], c["k"], c["n"]
        if k**order > 1 << 20:
            raise UsageError(f"dataset markov: k^order = {k**order} contexts is too many (max 2^20)")
        if n < order:
            raise UsageError(f"dataset markov: n={n} is shorter than the order {order}")
        rng = np.random.default_rng(c["seed"])
        p = _dirichlet(rng, k, c["alpha"], rows=k**order)
        pi = _stationary(p, order, k)
        ctx0 = int(rng.choice(k**order, p=pi / pi.sum()))
        u = rng.random(n)
        x = _sample_markov(np.cumsum(p, axis=1), u, ctx0, order, k)
        limit = -np.log2(pi[ctx0]) - _markov_logp(p, x, order, k)
        rate = float((pi * _entropy_rows(p)).sum())
        head = float(_entropy_rows(pi[None, :])[0])  # entropy of the stationary start
        return self.generated(x, k, limit, entropy_bits=head + (n - order) * rate,
                              meta={"entropy_rate": rate, "params": (k**order) * (k - 1)},
                              references=_class_reference(x, order, k))


@register_dataset
class Hmm(DatasetLoader):
    name = "hmm"
    summary = "hidden Markov source: seeded sticky transitions, Dirichlet emissions over k symbols"
    params = (
        Param("states", int, 4, "hidden states", min=1, max=64),
        replace(_K, default=8),
        _N,
        Param("stay", float, 0.9, "probability of keeping the hidden state", min=0.0, max=1.0),
        Param("alpha", float, 0.3, "Dirichlet concentration of emissions", min=1e-3),
        _SEED,
    )

    def memory_bytes(self) -> int:
        return 18 * self.config["n"]  # two arrays of n uniforms (float64) and the symbols

    def load(self) -> Dataset:
        c = self.config
        ns, k, n = c["states"], c["k"], c["n"]
        rng = np.random.default_rng(c["seed"])
        off = rng.dirichlet(np.ones(ns), size=ns) if ns > 1 else np.ones((1, 1))
        trans = c["stay"] * np.eye(ns) + (1 - c["stay"]) * off
        trans /= trans.sum(axis=1, keepdims=True)
        emit = _dirichlet(rng, k, c["alpha"], rows=ns)
        pi = _stationary(trans, 1, ns)
        s0 = int(rng.choice(ns, p=pi / pi.sum()))
        x = _sample_hmm(np.cumsum(trans, axis=1), np.cumsum(emit, axis=1), s0,
                        rng.random(n), rng.random(n))
        limit = -_hmm_logp(pi, trans, emit, x)
        return self.generated(x, k, limit)
