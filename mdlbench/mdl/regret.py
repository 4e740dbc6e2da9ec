"""Regret against the i.i.d. and order-k Markov classes over K symbols (Feder, Urbanke & Fogel
2025; Rissanen 1996; Kontkanen & Myllymäki 2007). Everything in bits.

- `ml_bits(counts)`: -log2 max_θ p_θ(x) for a product of multinomials, one per context: the best
  model of the class in hindsight. A coder's regret is its bits minus this.
- `log2_complexity(K, n)`: the exact NML normaliser log2 C(K, n) of the multinomial class, the
  minimax regret: C(1, n) = 1, C(2, n) = Σ_h binom(n, h) (h/n)^h ((n-h)/n)^(n-h) (a sum of n+1
  terms in log space), then C(k, n) = C(k-1, n) + n/(k-2) · C(k-2, n) (linear time).
- `fisher_complexity(K, n)`: its asymptotic (K-1)/2 · log2(n/2π) + log2(Γ(1/2)^K / Γ(K/2)), the
  log of the Fisher-information volume of the class (Rissanen 1996), o(1) from the exact value.

The order-k Markov class is coded here as every coder in mdlbench codes it: each symbol in the
context of the k symbols before it, symbols before the start read as 0 (zero-padded), so the
class is a product over the K^k contexts of multinomials, and the sample's ML code length is a
sum over contexts. Its regret figures are the sums of the per-context values at the sample's
context counts n_c: the minimax regret of a code that knows those counts (what a per-context
universal coder such as KT or SNML is measured against). The exact NML normaliser of the whole
Markov class differs from that sum by lower-order terms; order 0 (i.i.d.) is exact.
"""

from __future__ import annotations

import math

import numpy as np

LOG2E = 1.0 / math.log(2.0)
NML_ROW = "(NML)"
"""Formula row: the NML code length, ML bits + the exact minimax regret log2 C."""
FISHER_ROW = "(NML, Fisher asymptotic)"
"""Formula row: ML bits + the Fisher-volume asymptotic of log2 C."""


def context_counts(x: np.ndarray, order: int, k: int) -> np.ndarray:
    """(K^order, K) counts of each symbol after each context (zero-padded start), int64."""
    x = np.asarray(x, dtype=np.int64)
    if x.size and (x.min() < 0 or x.max() >= k):
        raise ValueError(f"symbols outside 0..{k - 1}")
    ctx = np.zeros(len(x), dtype=np.int64)
    for j in range(1, order + 1):  # the j-th previous symbol has weight K^(j-1)
        if j < len(x):
            ctx[j:] += x[:-j] * k ** (j - 1)
    return np.bincount(ctx * k + x, minlength=k**order * k).reshape(k**order, k)


def ml_bits(counts: np.ndarray) -> float:
    """-log2 of the maximised likelihood: Σ_c Σ_a -n_ca log2(n_ca / n_c)."""
    c = np.asarray(counts, dtype=np.float64).reshape(-1, np.shape(counts)[-1])
    tot = c.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(c > 0, c * np.log2(c / tot), 0.0)
    return float(-t.sum())


def _log_factorials(n: int) -> np.ndarray:
    """ln m! for m = 0..n (cumulative sums of logs: exact to ~1e-9 relative at n = 10^7)."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])


def _ln_c2(n: int, lf: np.ndarray) -> float:
    """ln C(2, n) = ln Σ_h binom(n, h) (h/n)^h ((n-h)/n)^(n-h), summed in log space."""
    if n == 0:
        return 0.0
    h = np.arange(n + 1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(h > 0, h * np.log(h / n), 0.0)
        b = np.where(h < n, (n - h) * np.log((n - h) / n), 0.0)
    terms = lf[n] - lf[:n + 1] - lf[n::-1] + a + b
    top = terms.max()
    return float(top + np.log(np.exp(terms - top).sum()))


def _ln_complexity(k: int, n: int, lf: np.ndarray) -> float:
    if k <= 1 or n == 0:
        return 0.0
    prev2, prev1 = 0.0, _ln_c2(n, lf)  # ln C(1, n), ln C(2, n)
    for j in range(3, k + 1):  # C(j) = C(j-1) + n/(j-2) C(j-2), in log space
        prev2, prev1 = prev1, float(np.logaddexp(prev1, math.log(n / (j - 2)) + prev2))
    return prev1


def log2_complexity(k: int, n: int) -> float:
    """Exact log2 C(K, n): the minimax regret of the multinomial class over K symbols, n draws."""
    if k < 1 or n < 0:
        raise ValueError("log2_complexity needs K >= 1 and n >= 0")
    return _ln_complexity(k, n, _log_factorials(n)) * LOG2E


def fisher_complexity(k: int, n: int) -> float:
    """(K-1)/2 · log2(n / 2π) + log2(Γ(1/2)^K / Γ(K/2)): the asymptotic of log2 C(K, n)."""
    if k <= 1 or n == 0:
        return 0.0
    return ((k - 1) / 2 * math.log2(n / (2 * math.pi))
            + (k * math.lgamma(0.5) - math.lgamma(k / 2)) * LOG2E)


def nml_regret(counts: np.ndarray, k: int) -> float:
    """Σ over contexts of log2 C(K, n_c) at the sample's context counts (see the module text)."""
    visits = np.asarray(counts).reshape(-1, np.shape(counts)[-1]).sum(axis=1)
    visits = visits[visits > 0]
    if not visits.size:
        return 0.0
    lf = _log_factorials(int(visits.max()))
    ln = {int(v): _ln_complexity(k, int(v), lf) for v in np.unique(visits)}
    return float(sum(ln[int(v)] for v in visits) * LOG2E)


def fisher_regret(counts: np.ndarray, k: int) -> float:
    """Σ over visited contexts of the Fisher asymptotic at n_c."""
    visits = np.asarray(counts).reshape(-1, np.shape(counts)[-1]).sum(axis=1)
    return float(sum(fisher_complexity(k, int(v)) for v in visits if v > 0))


def markov_class(order: int, k: int) -> str:
    """How tables name the class (the zero-padded start is how every coder here codes it)."""
    if order == 0:
        return f"i.i.d., {k} symbols"
    return f"order-{order} Markov, {k} symbols, zero-padded start"


def markov_figures(x: np.ndarray, order: int, k: int) -> tuple[float, dict[str, float]]:
    """(ML bits, formula rows) of a sample in the order-k Markov class over K symbols."""
    counts = context_counts(x, order, k)
    ml = ml_bits(counts)
    return ml, {NML_ROW: ml + nml_regret(counts, k), FISHER_ROW: ml + fisher_regret(counts, k)}
