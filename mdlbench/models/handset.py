"""Hand-set exact networks for the algorithmic tasks: the low-complexity solutions that the seed
paper's question (Shaw et al. 2025) and the n-sweep compare with trained ones.

Each is a flat weight vector for a `models.bayes.Net`, so it can start a variational posterior
(`variational:init=handset`) or be scored directly (`bayes.nll_bits`):

- `parity_mlp`: parity as an `mlp` with one-hot inputs (tanh threshold units).
- `parity_transformer`: parity as the one-layer `transformer` (Shaw et al.'s model class):
  attention that averages the last `len` symbols, and an MLP that reads parity off the count.
- `counting_mlp`: x_t = (x_{t-1} + step) mod K as an `mlp` (one unit per symbol).

`for_data` recognises which task a sample comes from (parity: bits with a parity symbol after
every `len`; counting: an arithmetic progression mod K), the way a decoder can, from the data.
"""

from __future__ import annotations

import math

import numpy as np

from .bayes import Net, NetConfig


def parity_mlp(length: int, cfg: NetConfig, gain: float = 4.0, out: float = 8.0) -> np.ndarray:
    """An exact parity network for `parity:len=length` data as an `mlp` with one-hot inputs.

    Units (tanh, read as steps s = (tanh+1)/2): a gate g that fires when the window's oldest of
    the last len+1 symbols is a parity symbol (or the start pad followed by a bit), i.e. when
    the next symbol is a parity symbol; and threshold units h_k = [#ones ≥ k] for k = 1..len,
    held off by the gate. Output: bits get logit +out when g = 0; parity symbol 2 + (Σ_k
    (-1)^(k+1) h_k) gets +out when g = 1; everything else -out. Weights take a handful of
    values (0, ±gain, ±gain·len, a few biases), the low-complexity solution of the task.
    """
    if cfg.kind != "mlp" or cfg.embed or cfg.alphabet != 4:
        raise ValueError("the hand-set parity mlp needs model=mlp, embed=0, alphabet 4")
    if cfg.context < length + 1 or cfg.hidden < length + 1:
        raise ValueError(f"the hand-set parity mlp needs context and hidden >= {length + 1}")
    net = Net(cfg)
    c0 = cfg.context - (length + 1)          # window position of the oldest of len+1 symbols
    w1 = np.zeros((cfg.context, 5, cfg.hidden))
    b1 = np.zeros(cfg.hidden)
    gate = [(c0, 2, 1.0), (c0, 3, 1.0), (c0, 4, 1.0), (c0 + 1, 4, -1.0)]
    for c, s, v in gate:                      # unit 0: g = step(gate - 0.5)
        w1[c, s, 0] = gain * v
    b1[0] = -0.5 * gain
    big = float(length)
    for k in range(1, length + 1):            # unit k: step(#ones - k + 0.5 + len·(gate - 1))
        for i in range(1, length + 1):
            w1[c0 + i, 1, k] = gain
        for c, s, v in gate:
            w1[c, s, k] += gain * big * v
        b1[k] = gain * (-k + 0.5 - big)
    w2s = np.zeros((cfg.hidden, 4))           # output weights on the steps s
    b2s = np.array([out, out, -out, -out])
    w2s[0] = [-2 * out, -2 * out, 2 * out, 0.0]
    for k in range(1, length + 1):
        sign = 1.0 if k % 2 else -1.0         # odd = Σ (-1)^(k+1) s_k
        w2s[k, 2] = -2 * out * sign
        w2s[k, 3] = 2 * out * sign
    w2 = w2s / 2                              # s = (tanh + 1)/2
    b2 = b2s + w2s.sum(axis=0) / 2
    return _flat(net, W1=w1, b1=b1, W2=w2, b2=b2)


def parity_transformer(length: int, cfg: NetConfig, attend: float = 8.0, out: float = 16.0,
                       zgain: float = 8.0) -> np.ndarray:
    """An exact parity network for `parity:len=length` data as the one-layer `transformer`.

    Residual dimensions (width ≥ 9): 0 a constant 1, 1 [symbol = 1], 2 [symbol is a parity
    symbol or the pad], 4 [symbol = 0] (every token has two 1s, so RMS norm scales all recent
    tokens alike), 3 [position older than the last `len`] (position embedding). Attention (head
    0) with context = len has zero queries and keys: it averages the window uniformly, and
    stays uniform when the weights are perturbed (a variational posterior samples them). With a
    longer context the last position's query reads the constant and the keys the "older" flag
    with weight -attend, so the older positions get e^-100 of the weight; that masking is
    fragile (σ = 0.01 noise on the embeddings moves the scores by ~1), so the experiments use
    context = len. Values carry dims 1 and 2, so the output adds m/len and z/len (times a known
    scale, and z weighted by `zgain`) to dims 5 and 6: m ones and z non-bits among the last
    `len` symbols. (The gain keeps the gate below from amplifying noise in dim 6: with it the
    network costs ~8 % more than the limit under σ = 0.01 noise on every weight, without it
    2.5 times the limit.)

    The next symbol is a parity symbol exactly when z = 0. The MLP (ReLU, no biases: the
    constant dim is the bias, so every unit's sign survives the RMS norm's rescaling) has a
    gate unit g = relu(½ - z) and units relu(m - k + 1 - len·z), k = 1..len, which the gate
    holds off when z ≥ 1; Σ_k c_k relu(m - k + 1) with c = (1, -2, 2, -2, ...) is m mod 2 at
    every integer m (a triangle wave). They write g and the parity to dims 7 and 8, and the
    unembedding gives the bits logit ±out·(1 - 2g) and the parity symbols out·(2g - 1) ±
    out·(g - 2·parity): a margin of at least ~20 nats everywhere, so each random bit costs one
    bit and each parity symbol nothing (up to the 2^-20 floor).
    """
    if cfg.kind != "transformer" or cfg.alphabet != 4:
        raise ValueError("the hand-set parity transformer needs model=transformer, alphabet 4")
    d, heads = cfg.width, cfg.heads
    if d < 9 or d // heads < 2 or cfg.context < length or cfg.hidden < length + 1:
        raise ValueError(f"the hand-set parity transformer needs width >= 9, width/heads >= 2, "
                         f"context >= {length} and hidden >= {length + 1}")
    net = Net(cfg)
    E = np.zeros((5, d))
    E[:, 0] = 1.0                             # constant
    E[1, 1] = 1.0                             # a one
    E[2:, 2] = 1.0                            # parity symbols and the pad
    E[0, 4] = 1.0                             # a zero: every token has norm² 2
    P = np.zeros((cfg.context, d))
    P[:cfg.context - length, 3] = 1.0         # older than the last `length` positions
    r = math.sqrt(2.0 / d + 1e-5)             # RMS of every recent token
    alpha = 1.0 / (length * r)                # dims 5, 6 after attention: m·alpha, z·alpha
    Wq, Wk, Wv, Wo = (np.zeros((d, d)) for _ in range(4))
    if cfg.context > length:  # mask the older positions (otherwise attention is uniform as is)
        Wq[0, 0] = attend
        Wk[3, 0] = -attend
    Wv[1, 0], Wv[2, 1] = 1.0, zgain
    Wo[0, 5] = Wo[1, 6] = 1.0
    W1 = np.zeros((d, cfg.hidden))
    W2 = np.zeros((cfg.hidden, d))
    W1[0, 0], W1[6, 0] = 0.5, -1.0 / (zgain * alpha)  # gate: relu(½ - z)
    W2[0, 7] = 2.0
    for k in range(1, length + 1):            # relu(m - k + 1 - len·z)
        W1[5, k], W1[0, k], W1[6, k] = 1.0 / alpha, -(k - 1.0), -length / (zgain * alpha)
        W2[k, 8] = 1.0 if k == 1 else 2.0 * (-1) ** (k - 1)
    U = np.zeros((d, 4))
    U[0, :2], U[7, :2] = out, -2.0 * out      # bits: out·(1 - 2g)
    U[0, 2:], U[7, 2:] = -out, 2.0 * out      # parity symbols: out·(2g - 1) ...
    U[7, 2], U[8, 2] = out, -2.0 * out        # ... + out·(g - 2·parity) for symbol 2
    U[7, 3], U[8, 3] = -out, 2.0 * out        # ... - out·(g - 2·parity) for symbol 3
    return _flat(net, E=E, P=P, Wq=Wq, Wk=Wk, Wv=Wv, Wo=Wo, W1=W1, W2=W2, U=U)


def counting_mlp(step: int, cfg: NetConfig, gain: float = 8.0, out: float = 12.0) -> np.ndarray:
    """An exact network for `counting` data over K = cfg.alphabet symbols (x_t = x_{t-1} + step
    mod K) as an `mlp` with one-hot inputs: unit s fires when the previous symbol is s and gives
    symbol (s + step) mod K the logit +out, every other symbol -out. After the start pad no unit
    fires and all symbols tie: the first symbol costs log2 K bits, as it should."""
    k = cfg.alphabet
    if cfg.kind != "mlp" or cfg.embed:
        raise ValueError("the hand-set counting network needs model=mlp, embed=0")
    if cfg.hidden < k:
        raise ValueError(f"the hand-set counting network needs hidden >= {k}")
    net = Net(cfg)
    w1 = np.zeros((cfg.context, k + 1, cfg.hidden))
    b1 = np.full(cfg.hidden, -gain)           # units k.. stay off (tanh = -1)
    for s in range(k):
        w1[-1, s, s] = 2.0 * gain             # tanh(gain) when the previous symbol is s
    w2s = np.zeros((cfg.hidden, k))           # weights on the steps (tanh + 1)/2
    for s in range(k):
        w2s[s, (s + step) % k] = 2.0 * out
    return _flat(net, W1=w1, b1=b1, W2=w2s / 2, b2=np.full(k, -out) + w2s.sum(axis=0) / 2)


def _flat(net: Net, **tensors: np.ndarray) -> np.ndarray:
    w = np.zeros(net.size)
    for name, value in tensors.items():
        w[net.slices[name]] = np.asarray(value, dtype=np.float64).reshape(-1)
    return w


def parity_length(x: np.ndarray) -> int | None:
    """`len` if x is parity data (bits, and after every `len` of them their parity 2 + Σ mod 2;
    the last string may be cut short), else None."""
    x = np.asarray(x, dtype=np.int64)
    where = np.flatnonzero(x >= 2)
    if not len(where) or x.max() > 3:
        return None
    length = int(where[0])
    period = length + 1
    whole = len(x) // period * period
    rows = x[:whole].reshape(-1, period)
    ok = (length > 0 and np.all(rows[:, :length] <= 1)
          and np.array_equal(rows[:, length], rows[:, :length].sum(axis=1) % 2 + 2)
          and np.all(x[whole:] <= 1))
    return length if ok else None


def counting_step(x: np.ndarray, k: int) -> int | None:
    """`step` if x is an arithmetic progression mod K (x_t = x_{t-1} + step), else None."""
    x = np.asarray(x, dtype=np.int64)
    if len(x) < 2:
        return None
    step = int((x[1] - x[0]) % k)
    return step if step and np.array_equal(x[1:], (x[:-1] + step) % k) else None


def for_data(x: np.ndarray, cfg: NetConfig) -> np.ndarray:
    """The hand-set network of the task `x` comes from, for this model (ValueError if none)."""
    length = parity_length(x) if cfg.alphabet == 4 else None
    if length is not None:
        return (parity_mlp if cfg.kind == "mlp" else parity_transformer)(length, cfg)
    step = counting_step(x, cfg.alphabet)
    if step is not None:
        if cfg.kind != "mlp":
            raise ValueError("the hand-set counting network is an mlp (model=mlp)")
        return counting_mlp(step, cfg)
    raise ValueError("no hand-set network for this data (parity and counting data have one)")
