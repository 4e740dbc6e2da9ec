"""The Laplace (Fisher-information) code length of the multinomial logistic class for labels
given inputs (the Fisher term of Feder, Urbanke & Fogel 2025; Rissanen 1996; MacKay 1992):

    L = -log2 p(y | X, θ̂) - log2 w(θ̂) + D/2 · log2(n / 2π) + ½ · log2 det(I₁(θ̂) + Λ/n)

θ̂ is the MAP estimate under the prior w = N(0, σ² I) on the D = (K-1)(d+1) parameters (class
K-1 is the reference class with logits 0, so the class is identifiable; d standardised features
plus a bias), I₁ the per-sample Fisher information at θ̂ (for the canonical logistic link, the
Hessian of the negative log-likelihood / n) and Λ = I/σ² the prior's precision. Λ/n makes it
the Laplace approximation of the Bayes mixture -log2 ∫ p(y | X, θ) w(θ) dθ whether or not I₁ is
singular (digits has constant pixels: their weights leave the likelihood unchanged, and the
prior term and Λ cancel exactly in those directions); with I₁ non-singular and n → ∞ it is the
textbook formula. σ is chosen from `SDS` for the shortest L, and the choice is paid for:
log2 len(SDS) bits. It is a formula, not a stream: no decoder reproduces it, and tables label it.

Features are standardised as the prequential coders do (each column centred and scaled over all
rows; constant columns become 0): X is side information both sides hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LN2 = math.log(2.0)
SDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Prior standard deviations tried; the shortest code wins and costs log2(6) bits to name."""
MAX_PARAMS = 2048
"""Larger classes get no Laplace figure (the Hessian has D² entries and a D³ determinant)."""
_CHUNK = 1 << 22


@dataclass(frozen=True)
class LaplaceCode:
    """The formula's value and its terms, in bits."""

    bits: float
    nll_bits: float
    """-log2 p(y | X, θ̂)."""
    prior_bits: float
    """-log2 w(θ̂): the prior density at θ̂."""
    volume_bits: float
    """D/2 · log2(n/2π) + ½ log2 det(I₁ + Λ/n)."""
    choice_bits: float
    """log2 of the number of prior scales tried."""
    params: int
    sd: float


def design(X: np.ndarray) -> np.ndarray:
    """Standardised features (constant columns 0) and a bias column, float64 (n, d+1)."""
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return np.hstack([Z, np.ones((len(X), 1))])


def _probs(Z: np.ndarray, theta: np.ndarray) -> np.ndarray:
    logits = np.hstack([Z @ theta.T, np.zeros((len(Z), 1))])
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _nll(Z: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    """-ln p(y | X, θ) in nats (log-sum-exp, stable for large logits)."""
    logits = np.hstack([Z @ theta.T, np.zeros((len(Z), 1))])
    top = logits.max(axis=1)
    lse = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    return float((lse - logits[np.arange(len(y)), y]).sum())


def fisher(Z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Σ_i (diag p_i - p_i p_iᵀ) ⊗ z_i z_iᵀ over the K-1 free classes: the (D, D) Hessian of the
    negative log-likelihood, n · I₁ (chunks over rows keep the intermediate small)."""
    n, m = Z.shape
    q = p[:, :-1]
    c = q.shape[1]
    H = np.zeros((m, c, c, m))
    step = max(1, _CHUNK // max(c * c * m, 1))
    for s in range(0, n, step):
        qs, zs = q[s:s + step], Z[s:s + step]
        W = -qs[:, :, None] * qs[:, None, :]
        W[:, np.arange(c), np.arange(c)] += qs
        H += np.tensordot(zs, W[:, :, :, None] * zs[:, None, None, :], axes=([0], [0]))
    return H.transpose(1, 0, 2, 3).reshape(c * m, c * m)


def fit(Z: np.ndarray, y: np.ndarray, k: int, precision: float,
        theta: np.ndarray | None = None, iters: int = 100) -> tuple[np.ndarray, bool]:
    """Newton's method with backtracking on -ln p(y|θ) + precision/2 |θ|²: (θ̂, converged).
    With precision 0 this is the maximum-likelihood fit, which need not exist (separable data)."""
    m = Z.shape[1]
    theta = np.zeros((k - 1, m)) if theta is None else theta.copy()
    onehot = np.zeros((len(y), k))
    onehot[np.arange(len(y)), y] = 1.0

    def objective(t: np.ndarray) -> float:
        return _nll(Z, y, t) + 0.5 * precision * float((t * t).sum())

    f = objective(theta)
    for _ in range(iters):
        p = _probs(Z, theta)
        grad = ((p - onehot)[:, :-1].T @ Z + precision * theta).reshape(-1)
        H = fisher(Z, p) + precision * np.eye(grad.size)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            return theta, False
        decrement = float(grad @ step)
        if not np.isfinite(decrement):
            return theta, False
        if decrement < 1e-9:  # converged: one last full step costs no new Hessian
            return theta - step.reshape(theta.shape), True
        t = 1.0
        while t > 1e-10:
            new = theta - t * step.reshape(theta.shape)
            fn = objective(new)
            if fn <= f - 0.25 * t * decrement:
                break
            t /= 2
        else:
            return theta, False
        theta, f = new, fn
    return theta, False


def logistic_laplace(X: np.ndarray, y: np.ndarray, k: int,
                     sds: tuple[float, ...] = SDS) -> LaplaceCode | None:
    """The Laplace code length of y given X under the logistic class (None when the class has
    more than MAX_PARAMS parameters or a fit fails)."""
    Z = design(X)
    y = np.asarray(y, dtype=np.int64)
    n, m = Z.shape
    dim = (k - 1) * m
    if k < 2 or n == 0 or dim > MAX_PARAMS:
        return None
    best: LaplaceCode | None = None
    theta = None
    for sd in sorted(sds):  # small σ first: each fit starts from the last (warm start)
        prec = 1.0 / sd**2
        theta, ok = fit(Z, y, k, prec, theta)
        if not ok:
            return None
        nll = _nll(Z, y, theta)
        prior = 0.5 * prec * float((theta * theta).sum()) + dim * 0.5 * math.log(2 * math.pi * sd**2)
        sign, logdet = np.linalg.slogdet(fisher(Z, _probs(Z, theta)) / n + prec / n * np.eye(dim))
        if sign <= 0:
            return None
        volume = dim / 2 * math.log(n / (2 * math.pi)) + 0.5 * logdet
        choice = math.log(len(sds))
        code = LaplaceCode((nll + prior + volume + choice) / LN2, nll / LN2, prior / LN2,
                           volume / LN2, choice / LN2, dim, sd)
        if best is None or code.bits < best.bits:
            best = code
    return best


def logistic_ml_bits(X: np.ndarray, y: np.ndarray, k: int) -> float | None:
    """-log2 max_θ p(y | X, θ) over the logistic class, or None where no maximum exists (the
    classes are separable: the likelihood approaches 1 without reaching it) or the class is too
    large to fit here."""
    Z = design(X)
    Z = Z[:, np.abs(Z).max(axis=0) > 0]  # a constant feature's weights do not change p(y|X)
    y = np.asarray(y, dtype=np.int64)
    if k < 2 or (k - 1) * Z.shape[1] > MAX_PARAMS:
        return None
    theta, ok = fit(Z, y, k, 0.0)
    if not ok or not np.isfinite(theta).all() or np.abs(theta).max() > 1e3:
        return None
    return _nll(Z, y, theta) / LN2
