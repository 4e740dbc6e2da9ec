"""A byte-level LSTM language model for prequential coding (nanoGPT-style: one file, one config).

Two ways to run the same weights:
  * `step(x, state)`: one symbol per stream, (B,) -> (B, K) logits. The coder predicts with this,
    on the encoder and the decoder alike, so both see the same floats. With `fused` it is one
    compiled call (`_fused_step`, numba) instead of about ten torch ops: a step of one stream
    on a CPU is then a few microseconds of arithmetic, not 50 of per-op overhead.
  * `forward(x, state)`: a whole segment, (T, B) -> (T, B, K) logits, used only for training on
    symbols already coded (both sides train on the same segment the same way).
Input index `alphabet` is the start symbol that precedes the first byte of every stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
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
    fused: bool = False
    """The step path as one compiled kernel (CPU only; other floats than the torch step's)."""


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
        state = tuple(torch.from_numpy(s) if isinstance(s, np.ndarray) else s for s in state)
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state

    def refresh(self) -> None:
        """The weights changed (an optimiser step): drop what `step` derived from them."""
        self._cells = self._arrays = None

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

    def _fused(self) -> tuple[np.ndarray, ...]:
        """The fused kernel's float32 arrays (layer 0's input table, the other layers' input
        weights^T and biases, hidden weights^T, the head^T and its bias), derived like
        `_derive`'s and cached until `refresh()`."""
        arrays = getattr(self, "_arrays", None)
        if arrays is None:
            cells, h = getattr(self, "_cells", None) or self._derive(), self.cfg.hidden
            rest = [w for w, _, _ in cells[1:]] or [torch.zeros(h, 4 * h)]
            arrays = self._arrays = tuple(np.ascontiguousarray(t.detach().numpy()) for t in (
                cells[0][0], torch.stack(rest), torch.stack([c[1] for c in cells]),
                torch.stack([c[2] for c in cells]), self.head.weight.detach().t(),
                self.head.bias.detach()))
        return arrays

    @property
    def fused(self) -> bool:
        """Whether `steps` runs in one compiled call (TorchStep's encoder then uses it)."""
        return self.cfg.fused

    def steps(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """`step` for each row of x (t, B) in turn: (t, B, K) logits. The encoder knows a
        segment's inputs, so the fused kernel takes them in one call (same floats as t calls
        of `step`); the state stays numpy arrays (torch's are read as numpy views)."""
        if not self.cfg.fused:
            rows = []
            for xt in x.unbind(0):
                logits, state = self.step(xt, state)
                rows.append(logits)
            return torch.stack(rows), state
        h, c = (np.array(s.numpy() if isinstance(s, torch.Tensor) else s) for s in state)
        out = np.empty((*x.shape, self.cfg.alphabet), dtype=np.float32)
        _fused_steps(x.numpy(), *self._fused(), h, c, out)
        return torch.from_numpy(out), (h, c)

    def step(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """x: (B,) int64 -> logits (B, K): the coding path. One LSTM cell per layer written out
        (a table row or a matmul, a matmul and the gates: one sigmoid for all four, a tanh for
        the cell input): on CPU several times cheaper than nn.LSTM on a length-1 sequence,
        which re-packs its weights on every call. What it derives from the weights is cached
        until `refresh()` (TorchStep calls it after every optimiser step)."""
        if self.cfg.fused:
            logits, state = self.steps(x[None], state)
            return logits[0], state
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


@numba.njit(cache=True, nogil=True)
def _fused_steps(xs: np.ndarray, table: np.ndarray, w_in: np.ndarray, w_hh: np.ndarray,
                 bias: np.ndarray, head_w: np.ndarray, head_b: np.ndarray, h: np.ndarray,
                 c: np.ndarray, out: np.ndarray) -> None:
    """`step` for each row of xs (t, B) in turn, as one compiled loop in float32, the state
    (h, c) advanced in place: per stream, per layer, the gates (a table row or input weights,
    then hidden weights, accumulated input by input so every gate's sum runs in one fixed
    order), then the cell and hidden states; then the head into out[t]. One step or a whole
    segment: the same loop, so the same floats."""
    layers, streams, n = h.shape
    gates = np.empty(4 * n, dtype=np.float32)
    one = np.float32(1.0)
    for t in range(xs.shape[0]):
        for b in range(streams):
            for layer in range(layers):
                if layer == 0:
                    gates[:] = table[xs[t, b]]
                else:
                    gates[:] = bias[layer]
                    for i in range(n):
                        v = h[layer - 1, b, i]
                        for j in range(4 * n):
                            gates[j] += w_in[layer - 1, i, j] * v
                for i in range(n):
                    v = h[layer, b, i]
                    for j in range(4 * n):
                        gates[j] += w_hh[layer, i, j] * v
                for j in range(n):
                    ig = one / (one + np.exp(-gates[j]))
                    fg = one / (one + np.exp(-gates[n + j]))
                    og = one / (one + np.exp(-gates[3 * n + j]))
                    cell = fg * c[layer, b, j] + ig * np.tanh(gates[2 * n + j])
                    c[layer, b, j] = cell
                    h[layer, b, j] = og * np.tanh(cell)
            out[t, b] = head_b
            for i in range(n):
                v = h[layers - 1, b, i]
                for j in range(out.shape[2]):
                    out[t, b, j] += head_w[i, j] * v
