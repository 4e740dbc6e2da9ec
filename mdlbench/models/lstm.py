"""A byte-level LSTM language model for prequential coding (nanoGPT-style: one file, one config).

Two ways to run the same weights:
  * `step(x, state)`: one symbol per stream, (B,) -> (B, K) logits. The coder predicts with this,
    on the encoder and the decoder alike, so both see the same floats.
  * `forward(x, state)`: a whole segment, (T, B) -> (T, B, K) logits, used only for training on
    symbols already coded (both sides train on the same segment the same way).
Input index `alphabet` is the start symbol that precedes the first byte of every stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

State = tuple[torch.Tensor, torch.Tensor]


@dataclass
class LSTMConfig:
    alphabet: int = 256
    embed: int = 32
    hidden: int = 256
    layers: int = 1


class LSTMModel(nn.Module):
    def __init__(self, cfg: LSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.alphabet + 1, cfg.embed)
        self.lstm = nn.LSTM(cfg.embed, cfg.hidden, num_layers=cfg.layers)
        self.head = nn.Linear(cfg.hidden, cfg.alphabet)

    def initial_state(self, batch: int, device: torch.device) -> State:
        shape = (self.cfg.layers, batch, self.cfg.hidden)
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x: (T, B) int64 -> logits (T, B, K) and the state after the segment."""
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x: (B,) int64 -> logits (B, K): the coding path. One LSTM cell per layer written out
        (two matmuls and the gates): on CPU several times cheaper than nn.LSTM on a length-1
        sequence, which re-packs its weights on every call. Weight views are looked up once
        (the optimiser updates the parameters in place, so the views stay current)."""
        if not hasattr(self, "_cells"):
            lstm = self.lstm
            self._cells = [tuple(getattr(lstm, f"{n}_l{i}") for n in
                                 ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                           for i in range(self.cfg.layers)]
        h0, c0 = state
        inp = F.embedding(x, self.embed.weight)
        hs, cs = [], []
        for i, (w_ih, w_hh, b_ih, b_hh) in enumerate(self._cells):
            gates = torch.addmm(b_ih + b_hh, inp, w_ih.t()).addmm_(h0[i], w_hh.t())
            ig, fg, gg, og = gates.chunk(4, 1)
            c = torch.sigmoid(fg) * c0[i] + torch.sigmoid(ig) * torch.tanh(gg)
            inp = torch.sigmoid(og) * torch.tanh(c)
            hs.append(inp)
            cs.append(c)
        return F.linear(inp, self.head.weight, self.head.bias), (torch.stack(hs), torch.stack(cs))
