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

    def refresh(self) -> None:
        """The weights changed (an optimiser step): drop what `step` derived from them."""
        self._cells = None

    def _derive(self) -> list[tuple[torch.Tensor, ...]]:
        """Per layer (input table or input weights^T, hidden weights^T, summed bias): layer 0's
        input table is embedding x input weights + both biases, one (K + 1, 4H) row per
        symbol, so its input projection is a row lookup."""
        lstm, cells = self.lstm, []
        with torch.no_grad():
            for i in range(self.cfg.layers):
                w_ih, w_hh = getattr(lstm, f"weight_ih_l{i}"), getattr(lstm, f"weight_hh_l{i}")
                bias = getattr(lstm, f"bias_ih_l{i}") + getattr(lstm, f"bias_hh_l{i}")
                if i == 0:
                    cells.append((torch.addmm(bias, self.embed.weight, w_ih.t()), w_hh.t(), bias))
                else:
                    cells.append((w_ih.t(), w_hh.t(), bias))
        return cells

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x: (B,) int64 -> logits (B, K): the coding path. One LSTM cell per layer written out
        (a table row or a matmul, a matmul and the gates: one sigmoid for all four, a tanh for
        the cell input): on CPU several times cheaper than nn.LSTM on a length-1 sequence,
        which re-packs its weights on every call. What it derives from the weights is cached
        until `refresh()` (TorchStep calls it after every optimiser step)."""
        cells = getattr(self, "_cells", None)
        if cells is None:
            cells = self._cells = self._derive()
        h0, c0 = state
        hs, cs = [], []
        inp = x
        for i, (w_in, w_hh_t, bias) in enumerate(cells):
            if i == 0:
                gates = F.embedding(x, w_in).addmm_(h0[i], w_hh_t)
            else:
                gates = torch.addmm(bias, inp, w_in).addmm_(h0[i], w_hh_t)
            ig, fg, _, og = gates.sigmoid().chunk(4, 1)
            c = torch.addcmul(fg * c0[i], ig, gates.chunk(4, 1)[2].tanh())
            inp = og * c.tanh()
            hs.append(inp)
            cs.append(c)
        if len(hs) == 1:
            state = (inp[None], c[None])
        else:
            state = (torch.stack(hs), torch.stack(cs))
        return F.linear(inp, self.head.weight, self.head.bias), state
