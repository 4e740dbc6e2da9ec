"""A small decoder-only causal Transformer for prequential coding (nanoGPT-style, one file).

Positions are ALiBi biases (-slope_h * distance), so attention depends only on how far back a
key is: that lets the coding path keep a ring-buffer KV cache of the last `context` positions
and slide forever, while training sees the same relative geometry.

Two ways to run the same weights:
  * `step(x, cache)`: one symbol per stream, (B,) -> (B, K) logits, reading and writing the KV
    cache. The coder predicts with this on the encoder and decoder alike (same floats).
  * `forward(x)`: a whole (B, L) window with a causal mask, used only to train on symbols
    already coded. Its floats differ from the step path's, which is why it never predicts.
Input index `alphabet` is the start symbol that precedes the first byte of every stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class TransformerConfig:
    alphabet: int = 256
    layers: int = 2
    dim: int = 128
    heads: int = 4
    context: int = 64
    mlp: int = 4  # hidden width multiple of the MLP


def alibi_slopes(heads: int) -> torch.Tensor:
    """Press et al.'s geometric slopes 2^(-8i/H), i = 1..H."""
    return torch.tensor([2.0 ** (-8.0 * (i + 1) / heads) for i in range(heads)])


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.heads, self.hd = cfg.heads, cfg.dim // cfg.heads
        self.ln1 = nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.ln2 = nn.LayerNorm(cfg.dim)
        self.fc = nn.Linear(cfg.dim, cfg.mlp * cfg.dim)
        self.out = nn.Linear(cfg.mlp * cfg.dim, cfg.dim)

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.gelu(self.fc(self.ln2(x))))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x: (B, L, D); bias: (H, L, L) additive (ALiBi and causal mask)."""
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, n, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd)) + bias
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.proj(y)
        return x + self.mlp(x)

    def step(self, x: torch.Tensor, kc: torch.Tensor, vc: torch.Tensor, slot: int,
             bias: torch.Tensor) -> torch.Tensor:
        """x: (B, D); kc, vc: (B, H, W, hd) ring buffers written at `slot`; bias (H, W)."""
        # Functional calls instead of module calls: the same kernels, less Python per step.
        b, d = x.shape
        h = F.layer_norm(x, (d,), self.ln1.weight, self.ln1.bias, self.ln1.eps)
        q, k, v = F.linear(h, self.qkv.weight, self.qkv.bias).view(b, 3, self.heads,
                                                                   self.hd).unbind(1)
        kc[:, :, slot] = k
        vc[:, :, slot] = v
        att = torch.baddbmm(bias.expand(b, -1, -1).reshape(b * self.heads, 1, -1),
                            q.reshape(b * self.heads, 1, self.hd),
                            kc.view(b * self.heads, -1, self.hd).transpose(1, 2),
                            alpha=1.0 / math.sqrt(self.hd))
        y = torch.bmm(att.softmax(-1), vc.view(b * self.heads, -1, self.hd)).view(b, d)
        x = x + F.linear(y, self.proj.weight, self.proj.bias)
        h = F.layer_norm(x, (d,), self.ln2.weight, self.ln2.bias, self.ln2.eps)
        h = F.gelu(F.linear(h, self.fc.weight, self.fc.bias))
        return x + F.linear(h, self.out.weight, self.out.bias)


class TransformerModel(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        if cfg.dim % cfg.heads:
            raise ValueError("dim must be a multiple of heads")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.alphabet + 1, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln_f = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.alphabet)
        self.register_buffer("slopes", alibi_slopes(cfg.heads), persistent=False)

    def _bias(self, n: int) -> torch.Tensor:
        """(H, n, n): -slope * (i - j) for j <= i within the context window, -inf elsewhere."""
        i = torch.arange(n, device=self.slopes.device)
        dist = (i[:, None] - i[None, :]).float()
        allowed = (dist >= 0) & (dist < self.cfg.context)
        bias = -self.slopes[:, None, None] * dist
        return bias.masked_fill(~allowed, float("-inf"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, L) int64 -> logits (B, L, K)."""
        h = self.embed(x)
        bias = self._bias(x.shape[1])
        for blk in self.blocks:
            h = blk(h, bias)
        return self.head(self.ln_f(h))

    def new_cache(self, batch: int, device: torch.device) -> dict:
        c = self.cfg
        shape = (batch, c.heads, c.context, c.dim // c.heads)
        w = torch.arange(c.context, device=device)
        # table[s, h, j]: bias of ring slot j when the newest entry is in slot s
        dist = ((w[:, None] - w[None, :]) % c.context).float()
        table = -self.slopes.to(device)[None, :, None] * dist[:, None, :]
        return {"k": [torch.zeros(shape, device=device) for _ in self.blocks],
                "v": [torch.zeros(shape, device=device) for _ in self.blocks],
                "table": table, "dist": dist, "t": 0}

    def step(self, x: torch.Tensor, cache: dict) -> torch.Tensor:
        """x: (B,) int64 -> logits (B, K); advances the ring-buffer cache by one position."""
        t, w = cache["t"], self.cfg.context
        slot = t % w
        bias = cache["table"][slot]
        if t < w - 1:  # slots not yet written hold zeros: mask them
            bias = bias.masked_fill(cache["dist"][slot] > t, float("-inf"))
        h = self.embed(x)
        for blk, kc, vc in zip(self.blocks, cache["k"], cache["v"], strict=True):
            h = blk.step(h, kc, vc, slot, bias)
        cache["t"] = t + 1
        return self.head(self.ln_f(h))
