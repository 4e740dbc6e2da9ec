"""Small torch classifiers for coding labels given inputs, and the one deterministic training
routine that the prequential and two-part coders run on both the encoder and the decoder side.

Determinism: `train` seeds everything from its arguments (initialisation through a forked torch
RNG, shuffling and the validation split through numpy generators keyed by (seed, key, n)), runs
under `runtime.deterministic()` (deterministic kernels, one intra-op thread, restored after), so
the same inputs give bit-identical weights, hence bit-identical probabilities, in the encoder and
in the decoder. Floats may differ between machines with different CPUs (SIMD paths); a stream is
decoded on a machine like the one that wrote it, as with every neural coder.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import probes
from .runtime import deterministic, seeded


@dataclass(frozen=True)
class TrainConfig:
    """The spec's training parameters (see compressors/preq.py for their help); `model`
    names a probe (models.probes)."""

    model: str = "logreg"
    hidden: int = 128
    layers: int = 1
    epochs: int = 100
    lr: float = 0.01
    wd: float = 3e-3
    batch: int = 32
    patience: int = 10
    val: float = 0.1
    seed: int = 0


@dataclass
class TrainReport:
    """What happened in one training run (for the per-block extras)."""

    train_size: int
    val_size: int
    epochs_run: int
    best_epoch: int
    val_bits: float | None
    """Σ -log2 p on the held-out split with the kept weights (None without a split)."""


def build(cfg: TrainConfig, d: int, k: int) -> nn.Module:
    """The probe named `cfg.model` (models.probes: logreg, mlp or one a plugin registered)."""
    model = probes.get(cfg.model).build(d, k, cfg)
    if not isinstance(model, nn.Module):
        raise TypeError(f"probe {cfg.model!r} returned {type(model).__name__}, not a torch "
                        f"nn.Module")
    return model


def blank(cfg: TrainConfig, d: int, k: int) -> nn.Module:
    """A model of the right shapes whose weights will be overwritten (the global RNG untouched)."""
    with seeded(None):
        return build(cfg, d, k)


def standardise(X: np.ndarray) -> torch.Tensor:
    """Float32 features, each column centred and scaled over all rows (X is side information that
    both sides hold in full, so its statistics may use every row). Constant columns become 0."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] == 0:
        return torch.zeros((X.shape[0], 0), dtype=torch.float32)
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    return torch.from_numpy(((X - mu) / sd).astype(np.float32))


def _init_seed(cfg: TrainConfig, key: int, n: int) -> int:
    return int(np.random.default_rng([cfg.seed, key, n, 0x1A17]).integers(0, 2**62))


def train(cfg: TrainConfig, X: torch.Tensor, y: np.ndarray, k: int, key: int = 0,
          ) -> tuple[nn.Module, TrainReport]:
    """Train a fresh model on (X[:n], y) with n = len(y): Adam on minibatches, early stopping
    on a held-out `val` fraction of these n examples (kept weights: best held-out loss).

    `key` separates runs on the same n (block index); everything random derives from
    (cfg.seed, key, n), so calling it twice gives the same weights to the bit.
    """
    n = int(len(y))
    with deterministic():
        with seeded(_init_seed(cfg, key, n)):
            model = build(cfg, X.shape[1], k)
        rng = np.random.default_rng([cfg.seed, key, n, 0x5B1])
        perm = rng.permutation(n)
        v = int(np.floor(cfg.val * n))
        if v < 1 or n - v < 1:
            v = 0
        val_idx, tr_idx = np.sort(perm[:v]), perm[v:]
        Xtr, ytr = X[:n], torch.from_numpy(np.asarray(y, dtype=np.int64))
        Xval, yval = Xtr[torch.from_numpy(val_idx)], ytr[torch.from_numpy(val_idx)]
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.wd)
        loss_fn = nn.CrossEntropyLoss()
        best = float("inf")
        best_state = None
        best_epoch = 0
        bad = 0
        epoch = 0
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            order = tr_idx[rng.permutation(len(tr_idx))]
            for i in range(0, len(order), cfg.batch):
                idx = torch.from_numpy(order[i:i + cfg.batch])
                opt.zero_grad()
                loss = loss_fn(model(Xtr[idx]), ytr[idx])
                loss.backward()
                opt.step()
            if v:
                model.eval()
                with torch.no_grad():
                    vl = float(nn.functional.cross_entropy(model(Xval), yval, reduction="sum"))
                if vl < best:
                    best, best_epoch, bad = vl, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    bad += 1
                    if bad >= cfg.patience:
                        break
        if best_state is not None:
            model.load_state_dict(best_state)
        else:
            best_epoch = epoch
        model.eval()
    report = TrainReport(len(tr_idx), v, epoch, best_epoch, best / np.log(2) if v else None)
    return model, report


def probabilities(model: nn.Module, X: torch.Tensor, eps: float) -> np.ndarray:
    """(m, k) float64 distributions: softmax of the model's float32 logits computed in float64,
    mixed with the uniform distribution at weight `eps` (so no label costs more than
    log2(k / eps) bits). The same function serves encoder, decoder and tests."""
    with deterministic(), torch.no_grad():
        logits = model(X).double().numpy()
    return mix_uniform(softmax(logits), eps)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def mix_uniform(p: np.ndarray, eps: float) -> np.ndarray:
    return (1.0 - eps) * p + eps / p.shape[1]


def flat_parameters(model: nn.Module) -> list[tuple[str, np.ndarray]]:
    """The model's tensors in state_dict order, as float64 arrays (name, values)."""
    return [(name, t.detach().double().numpy().copy()) for name, t in model.state_dict().items()]


def load_parameters(model: nn.Module, tensors: list[np.ndarray]) -> None:
    """Set the model's tensors (state_dict order) from float arrays of the same shapes."""
    state = model.state_dict()
    new = {}
    for (name, old), arr in zip(state.items(), tensors, strict=True):
        new[name] = torch.from_numpy(np.asarray(arr, dtype=np.float32).reshape(old.shape))
    model.load_state_dict(new)
