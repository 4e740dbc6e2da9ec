"""Bayesian (mean-field Gaussian) networks and adaptive priors for variational MDL.

Networks are *functional*: a `Net` lays out all weights in one flat vector of P numbers, and
`Net.logits(w, ctx)` runs a batch of S weight vectors (S, P) on N context windows (N, C) at
once (training, Monte-Carlo estimates), while `Net.step_probs(w, ctx)` runs one float64 weight
vector on one window in numpy (the coding path: encoder and decoder call exactly this, one
window per step, so their probabilities are bit-identical). A flat vector is what bits-back
coding moves on and off the ANS stack.

The posterior is q(w) = Π_j N(w_j; μ_j, σ_j²). The priors:

- `MixturePrior(k)`: p(w) = Π_j Σ_k π_k N(w_j; μ_k, σ_k²), with π, μ, σ learned jointly with q
  (Nowlan & Hinton 1992; Ullrich et al. 2017). Component 0 is pinned at μ_0 = 0. Hyper-priors
  keep components from collapsing: Gamma(a, b) on each precision λ_k = σ_k^-2 (b λ_k grows
  without bound as σ_k → 0) and Dirichlet(α > 1) on π (log π_k → -∞ is penalised). The hyper-
  priors regularise a MAP fit of (π, μ, σ); they are not part of the code length: the prior's
  parameters are *sent* (at 16 bits each, see `export`) and charged as `prior_param_bits`.
- `MixturePrior(1)` is the `gaussian` variant: one zero-mean component with a learned σ; its KL
  has a closed form.

KL(q‖mixture) has no closed form: `evaluate` returns the Monte-Carlo estimate
KL = -H(q) - E_q[log p(w)] with H(q) exact and E_q[log p(w)] averaged over S samples, and the
standard error of that average. Everything returned is in bits (nats / ln 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .runtime import deterministic

LN2 = math.log(2.0)
FLOOR = 2.0**-20
"""Every predictive distribution is (1 - K·FLOOR)·softmax + FLOOR: no symbol costs more than
20 bits, and the floor sits above constriction's smallest probability (2^-24), so the coder
codes exactly the distribution whose Σ -log2 p is reported (no silent clipping)."""
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
HALF_LOG_2PIE = 0.5 * math.log(2 * math.pi * math.e)


# ----------------------------------------------------------------------------- networks
@dataclass(frozen=True)
class NetConfig:
    """A tiny next-symbol model over a fixed window of the `context` previous symbols.

    `alphabet` K symbols plus one pad symbol K for positions before the start. mlp: inputs are
    one-hot per window position (`embed=0`) or a learned `embed`-dim embedding, one tanh
    layer of `hidden` units, K logits. transformer: width `embed` (16 if 0), learned position
    embeddings, `heads`-head attention over the window, a ReLU MLP of `hidden` units, logits
    from the last position; normalisation is parameter-free RMS norm.
    """

    kind: str
    alphabet: int
    context: int
    hidden: int
    embed: int = 0
    heads: int = 1

    @property
    def width(self) -> int:
        return self.embed or 16


class Net:
    def __init__(self, cfg: NetConfig) -> None:
        self.cfg = cfg
        k, c, h, v = cfg.alphabet, cfg.context, cfg.hidden, cfg.alphabet + 1
        if cfg.kind == "mlp":
            e = cfg.embed
            shapes = ([("E", (v, e)), ("W1", (c * e, h))] if e else [("W1", (c * v, h))])
            shapes += [("b1", (h,)), ("W2", (h, k)), ("b2", (k,))]
        elif cfg.kind == "transformer":
            d = cfg.width
            if d % cfg.heads:
                raise ValueError("transformer width must be a multiple of heads")
            shapes = [("E", (v, d)), ("P", (c, d)), ("Wq", (d, d)), ("Wk", (d, d)),
                      ("Wv", (d, d)), ("Wo", (d, d)), ("W1", (d, h)), ("b1", (h,)),
                      ("W2", (h, d)), ("b2", (d,)), ("U", (d, k)), ("bu", (k,))]
        else:
            raise ValueError(f"unknown model {cfg.kind!r}")
        self.shapes = dict(shapes)
        self.slices: dict[str, slice] = {}
        pos = 0
        for name, shape in shapes:
            n = math.prod(shape)
            self.slices[name] = slice(pos, pos + n)
            pos += n
        self.size = pos

    def split(self, w):
        """Flat (..., P) → dict of (..., *shape) views (torch or numpy)."""
        lead = tuple(w.shape[:-1])
        return {n: w[..., s].reshape(lead + self.shapes[n]) for n, s in self.slices.items()}

    def fan_in(self) -> np.ndarray:
        """Per-weight init scale 1/sqrt(fan-in) (biases and embeddings: 0 and 1)."""
        out = np.zeros(self.size)
        for n, s in self.slices.items():
            shape = self.shapes[n]
            if n in ("E", "P"):
                out[s] = 1.0
            elif len(shape) == 2:
                fi = self.cfg.context if (n == "W1" and self.cfg.kind == "mlp"
                                          and not self.cfg.embed) else shape[0]
                out[s] = 1.0 / math.sqrt(fi)
        return out

    def prepare(self, ctx: np.ndarray, dtype=torch.float32) -> torch.Tensor:
        """Network input for (N, C) windows: one-hot rows (N, C·(K+1)) for an mlp without
        embedding (a matmul is much faster than a gather in training), else the windows."""
        ctx = torch.from_numpy(np.asarray(ctx, np.int64))
        if self.cfg.kind == "mlp" and not self.cfg.embed:
            v = self.cfg.alphabet + 1
            cols = ctx + v * torch.arange(ctx.shape[1])[None, :]
            x = torch.zeros((ctx.shape[0], ctx.shape[1] * v), dtype=dtype)
            return x.scatter_(1, cols, 1.0)
        return ctx

    # -- batched torch forward: w (S, P), x = prepare(ctx) -> logits (S, N, K)
    def logits(self, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        p = self.split(w)
        cfg = self.cfg
        s_, n, c = w.shape[0], x.shape[0], cfg.context
        ctx = x
        if cfg.kind == "mlp":
            if cfg.embed:
                e = p["E"][:, ctx]                                   # (S, N, C, e)
                pre = torch.einsum("snf,sfh->snh", e.reshape(s_, n, -1), p["W1"])
            else:
                pre = torch.einsum("nf,sfh->snh", x, p["W1"])       # one-hot rows
            hid = torch.tanh(pre + p["b1"][:, None, :])
            return torch.einsum("snh,shk->snk", hid, p["W2"]) + p["b2"][:, None, :]
        d, nh = cfg.width, cfg.heads
        x = p["E"][:, ctx] + p["P"][:, None, :, :]                  # (S, N, C, d)
        y = _rms(x)
        q = torch.einsum("sncd,sde->snce", y, p["Wq"]).reshape(s_, n, c, nh, d // nh)
        kk = torch.einsum("sncd,sde->snce", y, p["Wk"]).reshape(s_, n, c, nh, d // nh)
        v = torch.einsum("sncd,sde->snce", y, p["Wv"]).reshape(s_, n, c, nh, d // nh)
        att = torch.softmax(torch.einsum("snqhe,snkhe->snhqk", q, kk) / math.sqrt(d // nh), -1)
        o = torch.einsum("snhqk,snkhe->snqhe", att, v).reshape(s_, n, c, d)
        x = x + torch.einsum("sncd,sde->snce", o, p["Wo"])
        z = torch.relu(torch.einsum("sncd,sdh->snch", _rms(x), p["W1"]) + p["b1"][:, None, None])
        x = x + torch.einsum("snch,shd->sncd", z, p["W2"]) + p["b2"][:, None, None]
        return torch.einsum("snd,sdk->snk", _rms(x[:, :, -1]), p["U"]) + p["bu"][:, None, :]

    # -- the coding path: one float64 weight vector, one window (C,) -> unnormalised probs (K,)
    def step_probs(self, p: dict[str, np.ndarray], ctx: np.ndarray) -> np.ndarray:
        cfg = self.cfg
        c = cfg.context
        if cfg.kind == "mlp":
            if cfg.embed:
                pre = p["E"][ctx].reshape(-1) @ p["W1"]
            else:
                pre = p["W1r"][np.arange(c), ctx].sum(axis=0)
            out = np.tanh(pre + p["b1"]) @ p["W2"] + p["b2"]
        else:
            d, nh = cfg.width, cfg.heads
            x = p["E"][ctx] + p["P"]
            y = _rms_np(x)
            q = (y @ p["Wq"]).reshape(c, nh, d // nh)
            k = (y @ p["Wk"]).reshape(c, nh, d // nh)
            v = (y @ p["Wv"]).reshape(c, nh, d // nh)
            a = np.einsum("qhe,khe->hqk", q, k) / math.sqrt(d // nh)
            a = np.exp(a - a.max(axis=-1, keepdims=True))
            a /= a.sum(axis=-1, keepdims=True)
            o = np.einsum("hqk,khe->qhe", a, v).reshape(c, d)
            x = x + o @ p["Wo"]
            x = x + np.maximum(_rms_np(x) @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
            out = _rms_np(x[-1]) @ p["U"] + p["bu"]
        e = np.exp(out - out.max())
        return e / e.sum() * (1.0 - len(e) * FLOOR) + FLOOR

    def numpy_params(self, w: np.ndarray) -> dict[str, np.ndarray]:
        p = {n: np.ascontiguousarray(a) for n, a in self.split(np.asarray(w, np.float64)).items()}
        if self.cfg.kind == "mlp" and not self.cfg.embed:
            p["W1r"] = p["W1"].reshape(self.cfg.context, self.cfg.alphabet + 1, self.cfg.hidden)
        return p


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + 1e-5)


def _rms_np(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5)


def windows(data: np.ndarray, context: int, pad: int) -> np.ndarray:
    """(N, C) windows of the C symbols before each position (pad before the start)."""
    x = np.concatenate([np.full(context, pad, dtype=np.int64), np.asarray(data, np.int64)])
    idx = np.arange(len(data))[:, None] + np.arange(context)[None, :]
    return x[idx]


# ----------------------------------------------------------------------------- priors
class MixturePrior(torch.nn.Module):
    """Adaptive Gaussian-mixture prior over every weight; k=1 is the `gaussian` variant."""

    def __init__(self, k: int, scale: float, gamma: tuple[float, float] = (2.0, 1e-4),
                 dirichlet: float = 2.0) -> None:
        super().__init__()
        self.k = k
        self.gamma, self.dirichlet = gamma, dirichlet
        if k == 1:
            self.logit_pi = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
            self.mu_free = torch.nn.Parameter(torch.zeros(0), requires_grad=False)
            self.log_sigma = torch.nn.Parameter(torch.tensor([math.log(scale)]))
            return
        m = torch.linspace(-scale, scale, k - 1) if k > 2 else torch.tensor([scale])
        self.logit_pi = torch.nn.Parameter(torch.cat([torch.tensor([math.log(k - 1.0)]),
                                                      torch.zeros(k - 1)]))
        self.mu_free = torch.nn.Parameter(m.clone())
        s0 = max(scale / (4 * k), 1e-2)
        self.log_sigma = torch.nn.Parameter(torch.full((k,), math.log(s0)))

    @property
    def mu(self) -> torch.Tensor:
        return torch.cat([torch.zeros(1, dtype=self.mu_free.dtype), self.mu_free])

    def log_prob(self, w: torch.Tensor) -> torch.Tensor:
        """Elementwise log density (nats) of each weight."""
        lp = torch.log_softmax(self.logit_pi, 0)
        z = (w[..., None] - self.mu) / self.log_sigma.exp()
        return torch.logsumexp(lp - self.log_sigma - HALF_LOG_2PI - 0.5 * z * z, dim=-1)

    def hyper_log_prob(self) -> torch.Tensor:
        """log Gamma(λ_k; a, b) + log Dirichlet(π; α), up to constants (nats)."""
        a, b = self.gamma
        lam = torch.exp(-2 * self.log_sigma)
        out = ((a - 1) * torch.log(lam) - b * lam).sum()
        if self.k > 1:
            out = out + (self.dirichlet - 1) * torch.log_softmax(self.logit_pi, 0).sum()
        return out

    def kl_closed(self, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
        """KL(q ‖ N(0, s²)) summed over weights, nats (gaussian variant only)."""
        ls = self.log_sigma[0]
        return (ls - log_sigma + (torch.exp(2 * log_sigma) + mu * mu) / (2 * torch.exp(2 * ls))
                - 0.5).sum()

    # -- what is sent: 3k-1 numbers at float16 (gaussian: 1)
    def export(self) -> np.ndarray:
        with torch.no_grad():
            if self.k == 1:
                v = self.log_sigma.detach().double().numpy()
            else:
                lp = torch.log_softmax(self.logit_pi.detach().double(), 0)
                v = torch.cat([lp, self.mu_free.detach().double(),
                               self.log_sigma.detach().double()]).numpy()
        return v.astype(np.float16)

    @staticmethod
    def n_exported(k: int) -> int:
        return 1 if k == 1 else 3 * k - 1


def prior_from_export(v: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(π, μ, σ) in float64 from the float16 numbers sent in the stream."""
    v = np.asarray(v, np.float64)
    if k == 1:
        return np.ones(1), np.zeros(1), np.exp(v[:1])
    lp, mu, ls = v[:k], np.concatenate([[0.0], v[k:2 * k - 1]]), v[2 * k - 1:3 * k - 1]
    pi = np.exp(lp - lp.max())
    return pi / pi.sum(), mu, np.exp(ls)


def prior_table(pi: np.ndarray, mu: np.ndarray, sigma: np.ndarray, delta: float,
                radius: int) -> np.ndarray:
    """Probability of each grid bin [(i-½)δ, (i+½)δ), i = -radius..radius, under the mixture,
    tails folded into the end bins (float64; deterministic given its float inputs)."""
    edges = (np.arange(-radius, radius + 2, dtype=np.float64) - 0.5) * delta
    edges[0], edges[-1] = -np.inf, np.inf
    z = torch.from_numpy((edges[:, None] - mu[None, :]) / sigma[None, :])
    cdf = (torch.special.ndtr(z).numpy() * pi[None, :]).sum(axis=1)
    return np.maximum(np.diff(cdf), 0.0)


# ----------------------------------------------------------------------------- training
@dataclass
class Posterior:
    mu: torch.Tensor          # (P,) float32
    log_sigma: torch.Tensor   # (P,) float32
    prior: MixturePrior


def init_weights(net: Net, mode: str, gen: torch.Generator,
                 handset: np.ndarray | None = None) -> torch.Tensor:
    if mode == "handset":
        if handset is None:
            raise ValueError("no hand-set solution for this task/model")
        return torch.tensor(handset, dtype=torch.float32)
    scale = torch.tensor(net.fan_in(), dtype=torch.float32)
    return torch.randn(net.size, generator=gen) * scale


def train(net: Net, data: np.ndarray, *, components: int, steps: int, lr: float, seed: int,
          init: str = "random", handset: np.ndarray | None = None, sigma0: float = 0.01,
          mc: int = 1) -> Posterior:
    """Minimise KL(q‖p) + E_q[NLL] - log hyperprior(p) jointly over q and the prior, full batch.

    Deterministic: a seeded generator draws the init and every ε, and it runs under
    `runtime.deterministic()` (one thread, deterministic kernels), so the decoder's rerun gives
    the same q, bit for bit.
    """
    with deterministic():
        gen = torch.Generator().manual_seed(seed)
        ctx = net.prepare(windows(data, net.cfg.context, net.cfg.alphabet))
        y = torch.from_numpy(np.asarray(data, np.int64))
        mu0 = init_weights(net, init, gen, handset)
        mu = torch.nn.Parameter(mu0.clone())
        log_sigma = torch.nn.Parameter(torch.full((net.size,), math.log(sigma0)))
        scale = float(mu0.abs().max()) if components > 1 else float(mu0.std()) + 1e-2
        prior = MixturePrior(components, max(scale, 0.1))
        opt = torch.optim.Adam([mu, log_sigma, *prior.parameters()], lr=lr, foreach=True)
        n = len(data)
        for _ in range(steps):
            eps = torch.randn((mc, net.size), generator=gen)
            w = mu + log_sigma.exp() * eps
            logits = net.logits(w, ctx)
            nll = _nll(logits.reshape(-1, logits.shape[-1]), y.repeat(mc)) / mc
            kl = _kl(prior, mu, log_sigma, w)
            loss = (nll + kl - prior.hyper_log_prob()) / n
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                log_sigma.clamp_(-12.0, 3.0)
                prior.log_sigma.clamp_(-8.0, 5.0)
        return Posterior(mu.detach().clone(), log_sigma.detach().clone(), prior)


def _nll(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Σ -ln p(y) in nats under the floored softmax (see FLOOR)."""
    k = logits.shape[-1]
    lp = torch.log_softmax(logits, -1).gather(-1, y[:, None])[:, 0]
    return -torch.logaddexp(lp + math.log1p(-k * FLOOR), torch.tensor(math.log(FLOOR))).sum()


def _kl(prior: MixturePrior, mu, log_sigma, w) -> torch.Tensor:
    """KL(q‖p) in nats: closed form for one component, else -H(q) - mean_S Σ log p(w_s)."""
    if prior.k == 1:
        return prior.kl_closed(mu, log_sigma)
    entropy = (log_sigma + HALF_LOG_2PIE).sum()
    return -entropy - prior.log_prob(w).sum(dim=-1).mean()


def _se(a: np.ndarray) -> float:
    """Standard error of the mean of Monte-Carlo draws."""
    return float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else float("nan")


@dataclass
class Evaluation:
    kl_bits: float
    kl_se_bits: float
    nll_bits: float
    nll_se_bits: float
    sample_sd_bits: float     # spread of one sample's log q - log p + NLL (a bits-back draw)
    samples: int
    kl_method: str


def evaluate(net: Net, post: Posterior, data: np.ndarray, samples: int, seed: int) -> Evaluation:
    """Monte-Carlo KL(q‖p) and E_q[NLL] in bits, each with its standard error."""
    gen = torch.Generator().manual_seed(seed ^ 0x5EED)
    ctx = net.prepare(windows(data, net.cfg.context, net.cfg.alphabet))
    y = torch.from_numpy(np.asarray(data, np.int64))
    with torch.no_grad():
        sig = post.log_sigma.exp()
        nll, lq, lp = [], [], []
        for _ in range(samples):
            w = post.mu + sig * torch.randn(net.size, generator=gen)
            logits = net.logits(w[None], ctx)[0].double()
            nll.append(float(_nll(logits, y)))
            z = (w - post.mu) / sig
            lq.append(float((-post.log_sigma - HALF_LOG_2PI - 0.5 * z * z).double().sum()))
            lp.append(float(post.prior.log_prob(w.double()).sum()))
        nll_a, lq_a, lp_a = (np.array(v) / LN2 for v in (nll, lq, lp))
        if post.prior.k == 1:
            kl = float(post.prior.kl_closed(post.mu.double(), post.log_sigma.double())) / LN2
            kl_se, method = 0.0, "closed form (Gaussian prior)"
        else:
            h = float((post.log_sigma.double() + HALF_LOG_2PIE).sum()) / LN2
            kl, kl_se = -h - float(lp_a.mean()), _se(lp_a)
            method = f"Monte Carlo, {samples} samples: -H(q) exact - mean log2 p(w)"
        return Evaluation(kl, kl_se, float(nll_a.mean()), _se(nll_a),
                          float((nll_a + lq_a - lp_a).std(ddof=1)) if samples > 1 else 0.0,
                          samples, method)


def nll_bits(net: Net, w: np.ndarray, data: np.ndarray) -> float:
    """Σ -log2 p(x_t | window, w) for one weight vector, batched float64 (ideal figure only)."""
    ctx = net.prepare(windows(data, net.cfg.context, net.cfg.alphabet), torch.float64)
    y = torch.from_numpy(np.asarray(data, np.int64))
    with torch.no_grad():
        logits = net.logits(torch.tensor(w, dtype=torch.float64)[None], ctx)[0]
        return float(_nll(logits, y)) / LN2


def quantised_gaussian_bits(sym: np.ndarray, mean: np.ndarray, std: np.ndarray,
                            radius: int) -> float:
    """Σ -log2 Q(sym) under Gaussians N(mean, std²) quantised to integer bins on
    [-radius, radius] and renormalised, as constriction's QuantizedGaussian defines them (ideal
    figure; each bin floored at 2^-24, constriction's smallest probability)."""
    def cdf(v):
        return torch.special.ndtr(torch.from_numpy((v - mean) / std)).numpy()

    mass = cdf(sym + 0.5) - cdf(sym - 0.5)
    norm = cdf(np.full_like(mean, radius + 0.5)) - cdf(np.full_like(mean, -radius - 0.5))
    return float(-np.log2(np.maximum(mass / norm, 2.0**-24)).sum())


@dataclass
class DiscreteEvaluation:
    kl_bits: float            # E_Q[log2 Q(w) - log2 P(w)] on the grid
    kl_se_bits: float
    nll_bits: float           # E_Q[NLL(w)] for grid weights
    nll_se_bits: float
    sample_sd_bits: float     # spread of one draw's realised bits-back length


def evaluate_discrete(net: Net, post: Posterior, data: np.ndarray, samples: int, seed: int,
                      delta: float, table: np.ndarray) -> DiscreteEvaluation:
    """Monte-Carlo KL(Q‖P) and E_Q[NLL] for the *discretised* posterior Q and prior P on the
    grid δ that the bits-back stream uses (P = `table` over bins -R..R). A draw from Q is the
    rounded draw from q (the quantised Gaussian integrates q over each bin); the ±8σ truncation
    and constriction's 2^-24 floors are ignored (they move a bin's mass by < 1e-14 and 2^-24)."""
    gen = torch.Generator().manual_seed(seed ^ 0xD15C)
    radius = (len(table) - 1) // 2
    logp_tab = np.log2(np.maximum(table / table.sum(), 2.0**-24))
    mean = post.mu.double().numpy() / delta
    std = np.maximum(post.log_sigma.double().exp().numpy() / delta, 1e-3)
    kl, nll = [], []
    for _ in range(samples):
        eps = torch.randn(net.size, generator=gen).double().numpy()
        sym = np.clip(np.round(mean + std * eps), -radius, radius)
        hi = torch.special.ndtr(torch.from_numpy((sym + 0.5 - mean) / std)).numpy()
        lo = torch.special.ndtr(torch.from_numpy((sym - 0.5 - mean) / std)).numpy()
        logq = np.log2(np.maximum(hi - lo, 2.0**-24)).sum()
        kl.append(logq - logp_tab[sym.astype(np.int64) + radius].sum())
        nll.append(nll_bits(net, sym * delta, data))
    kl_a, nll_a = np.array(kl), np.array(nll)
    return DiscreteEvaluation(float(kl_a.mean()), _se(kl_a), float(nll_a.mean()), _se(nll_a),
                              float((kl_a + nll_a).std(ddof=1)) if samples > 1 else 0.0)
