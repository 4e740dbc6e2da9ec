"""Your torch model as a prequential coder: the next-symbol protocol, and the one step function
(`TorchStep`) that drives any model that follows it, for the encoder and the decoder alike.

A next-symbol model is a `torch.nn.Module` over B streams at once. Its inputs are int64 symbols
in 0..K, where K (the alphabet size) is the start symbol in front of every stream, so an
embedding needs K + 1 rows; its outputs are logits over the K symbols. Two shapes fit:

recurrent: state in, state out (an LSTM, a GRU, a state-space model)
    forward(x, state) -> (logits, state)      x (T, B) -> logits (T, B, K); time first, as
                                              torch's RNNs. `state` starts as
                                              initial_state(B, device) if the module has that
                                              method, else None (what nn.GRU/nn.LSTM take).
    step(x, state) -> (logits, state)         optional, x (B,) -> (B, K): a faster path for one
                                              symbol; by default forward on T = 1.
    steps(x, state) -> (logits, state)        optional, with `fused` true: x (t, B) ->
                                              (t, B, K), t steps in one call, the same floats
                                              as t calls of `step` (the encoder's path).

window: a causal model over the last C symbols (a Transformer, a causal CNN); C is the
coder's `context`
    forward(x) -> logits                      x (B, L) -> (B, L, K), batch first; logits[:, i]
                                              may depend on x[:, :i + 1] only.
    new_cache(B, device), step(x, cache)      optional fast path, x (B,) -> (B, K), advancing
                                              the cache by one position (a ring-buffer KV
                                              cache); without it every prediction runs forward
                                              on the last C inputs again.

How `TorchStep` drives it (a StepModel of coding/loop.py, which runs the same calls in the same
order when decoding, so both sides see bit-identical floats; models/runtime.py fixes the torch
settings those floats depend on):
- predict: the coding path (step, or forward on the window) under no_grad; softmax in float32,
  then float64 floored at PROB_FLOOR: the (B, K) distributions the entropy coder gets. The encoder
  knows every symbol, so it runs several training segments in one call (`encode_segments`: the
  same per-step calls and the same training at each segment's end, in order, then the rows of
  all of them and each segment's ideal bits at once; the coder still gets one call per
  segment); the decoder predicts step by step. Both run the same `_step` per step; the encoder
  takes one softmax over the stacked logits of its segments (a row depends only on the weights
  at its step, and softmax and `_widen` are row-wise, so each row is the float the decoder's
  one-step softmax gives).
- update(symbols): every T = `train_every` steps, one optimiser step on the mean cross-entropy
  of the T×B symbols just coded. A recurrent model trains with forward over the segment's inputs
  from the state the segment started in; a window model with forward over the segment with up
  to min(T, C - 1) earlier symbols in front as context only (so L ≤ T + min(T, C - 1): a model
  that cannot take windows longer than C needs T ≤ C / 2), the loss on its last T positions.
  After every optimiser step the model's `refresh()` is called if it has one (a step path that
  caches functions of the weights, like the LSTM's embedding x input-weights table, drops them
  there). The training forward never predicts: a batched pass and a step path give different floats
  (as Delétang et al. 2024, "Language Modeling Is Compression", and its users found), and
  only the step path is the same in encoder and decoder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..coding.core import PROB_FLOOR
from . import runtime

OptimizerFactory = Callable[[Iterable[Any]], Any]
"""params -> torch.optim.Optimizer."""


class TorchStep:
    """A next-symbol model as a StepModel: predict with its coding path; every `train_every`
    steps, one optimiser step on the segment just coded. `context` None: a recurrent model;
    an int C: a window model over the last C symbols."""

    def __init__(self, net: Any, optimizer: OptimizerFactory, alphabet: int, streams: int,
                 device: str, train_every: int, threads: int, context: int | None = None,
                 windows: int = 1) -> None:
        import torch

        self.torch = torch
        self.net, self.alphabet, self.streams = net, alphabet, streams
        self.device = torch.device(device)
        self.threads, self.train_every, self.context = threads, train_every, context
        self.window_steps = train_every // windows  # a recurrent model's training windows
        self.starts: list[Any] = []  # the state at each window's start, this segment
        self.opt = optimizer(net.parameters())
        self.refresh = getattr(net, "refresh", None)
        self.step = getattr(net, "step", None)
        self.steps = net.steps if context is None and getattr(net, "fused", False) else None
        """A recurrent model's path over several steps in one call ((t, B) -> (t, B, K)), used
        where the model says it is `fused` (one compiled call; torch ops a step at a time are
        cheaper through `step`)."""
        self.one_forward = context is None and self.step is None
        """Steps run forward on T = 1: their input is (1, B) and their logits (1, B, K)."""
        self.windowed = context is None and windows > 1
        self.x = torch.full((streams,), alphabet, dtype=torch.long, device=self.device)  # start
        self.rows: list[Any] = [self.x]  # the segment's first input, then its symbols
        self.updates = 0
        if context is None:
            init = getattr(net, "initial_state", None)
            self.state = init(streams, self.device) if init is not None else None
            self.seg_state = self.state
        else:
            cache = getattr(net, "new_cache", None)
            self.cache = cache(streams, self.device) if cache is not None else None
            self.window = self.x[:, None][:, :0]  # what the next prediction sees (no cache)
            self.keep = min(train_every, context - 1)
            self.hist = self.x[:, None]  # (B, <= keep + 1): earlier symbols, start symbol first

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def predict(self) -> np.ndarray:
        """The next step's (B, K) distributions (the decoder's path, one step at a time)."""
        with self.torch.no_grad():
            return _widen(self._probs()).cpu().numpy()

    def update(self, symbols: np.ndarray) -> None:
        x = self.torch.from_numpy(np.ascontiguousarray(symbols, dtype=np.int64))
        self._advance(x.to(self.device))
        if len(self.rows) > self.train_every:
            self._train()

    def encode_segment(self, symbols: np.ndarray) -> tuple[np.ndarray, float]:
        """The encoder's path for one segment: predict and learn the (t, B) `symbols` of the
        next t steps, which must not run past the end of the training segment; train if they
        complete it. Returns their (t * B, K) distributions, exactly as `predict` gives them step
        by step, and Σ -log2 p of the symbols under them (normalised), in bits."""
        if len(self.rows) + len(symbols) > self.train_every + 1:
            raise ValueError("encode_segment runs past the end of the training segment")
        probs, bits = self.encode_segments(symbols)
        return probs, bits[0] if bits else 0.0

    def encode_segments(self, symbols: np.ndarray) -> tuple[np.ndarray, list[float]]:
        """The encoder's path over several segments: predict and learn the (t, B) `symbols` of
        the next t steps, training at every segment's end, in order. Returns their (t * B, K)
        distributions, exactly as `predict` gives them step by step, and Σ -log2 p (normalised,
        in bits) of each segment's symbols: one float per segment, the first for the rest of
        the segment under way. A row depends only on the weights at its step, and softmax,
        `_widen` and the bits are row-wise, so all segments' rows go through them at once after
        the last one trained (a handful of torch ops per call, not per segment)."""
        torch = self.torch
        seg = torch.from_numpy(np.ascontiguousarray(symbols, dtype=np.int64)).to(self.device)
        rows = torch.cat((self.x[None], seg))  # every step's input, then the last symbol
        logits: list[Any] = []
        sizes: list[int] = []
        t0 = 0
        while t0 < len(seg):
            t1 = min(len(seg), t0 + self.train_every + 1 - len(self.rows))
            self._segment(rows[t0:t1 + 1], logits)
            sizes.append((t1 - t0) * self.streams)
            t0 = t1
        if not logits:
            return np.empty((0, self.alphabet)), []
        with torch.no_grad():
            # one softmax over the stacked rows: softmax is row-wise, so each row is the
            # float32 row `_probs` gives for that step alone
            chunks = self.one_forward or self.steps is not None  # (t, B, K) pieces
            stacked = torch.cat(logits) if chunks else torch.stack(logits)
            p = _widen(stacked.float().softmax(-1).view(-1, self.alphabet))
            hit = p.gather(1, seg.view(-1, 1)).view(-1) / p.sum(1)
            # each segment's sum over its own contiguous run: the floats of one sum per segment
            bits = torch.stack([-part.sum() for part in hit.log2().split(sizes)]).tolist()
        return p.cpu().numpy(), bits

    def _segment(self, rows: Any, logits: list[Any]) -> None:
        """Run the steps whose inputs are `rows[:-1]` ((t + 1, B): the current input, then
        the t symbols, which end at or before the training segment's end), appending each
        step's logits to `logits`; train if they complete the segment."""
        whole = len(self.rows) == 1 and len(rows) == self.train_every + 1
        inputs, base = rows[:-1], len(self.rows) - 1
        with self.torch.no_grad():
            self._segment_start()
            if self.steps is not None:  # up to a window's steps in one call
                done = 0
                while done < len(inputs):
                    self._window_start(base + done)
                    n = min(len(inputs) - done, self.window_steps - (base + done)
                            % self.window_steps)
                    out, self.state = self.steps(inputs[done:done + n], self.state)
                    logits.append(out)
                    done += n
            else:
                for i, x in enumerate(inputs.split(1) if self.one_forward else inputs.unbind(0)):
                    if self.windowed:
                        self._window_start(base + i)
                    logits.append(self._step(x))
        self.rows.extend(rows[1:].unbind(0))
        self.x = self.rows[-1]
        if len(self.rows) > self.train_every:  # a whole segment: its rows in one op, not T + 1
            self._train(rows if whole else None)

    def _probs(self) -> Any:
        """(B, K) float32 softmax for the next step, from the coding path (no_grad); `_widen`
        makes them the coder's float64 rows (elementwise and exact: one row at a time or a
        segment's rows at once give the same floats)."""
        self._segment_start()
        self._window_start(len(self.rows) - 1)
        if self.one_forward:
            return self._step(self.x[None])[0].float().softmax(-1)
        return self._step(self.x).float().softmax(-1)

    def _segment_start(self) -> None:
        """At a segment's first step: the torch settings, and the state training starts from."""
        if len(self.rows) == 1:
            runtime.settle(self.threads)
            if self.context is None:
                self.seg_state = self.state

    def _window_start(self, done: int) -> None:
        """Before the step after `done` steps of the segment: if it starts a training window
        (a recurrent model's segment cut into `windows`), keep the state it starts from (the
        first window's is `seg_state`)."""
        if self.windowed and done and done % self.window_steps == 0:
            self.starts.append(self.state)

    def _advance(self, x: Any) -> None:
        self.rows.append(x)
        self.x = x

    def _train(self, rows: Any = None) -> None:
        """One optimiser step on the segment just coded; `rows`: its (T + 1, B) rows when the
        caller has them as one tensor (the same values as stacking `self.rows`)."""
        runtime.settle(self.threads)
        loss = self._loss(self.torch.stack(self.rows) if rows is None else rows)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        if self.refresh is not None:
            self.refresh()
        self.rows, self.starts = [self.x], []
        self.updates += 1

    def _step(self, x: Any) -> Any:
        """(B,) inputs -> (B, K) logits, advancing the model's state: the coding path. When
        `one_forward` (a recurrent model without `step`): (1, B) -> (1, B, K), forward on
        T = 1."""
        net = self.net
        if self.context is None:
            if self.step is not None:
                logits, self.state = self.step(x, self.state)
                return logits
            logits, self.state = net(x, self.state)
            return logits
        if self.cache is not None:
            return self.step(x, self.cache)
        self.window = self.torch.cat([self.window, x[:, None]], 1)[:, -self.context:]
        return net(self.window)[:, -1]

    def _loss(self, rows: Any) -> Any:
        """Mean cross-entropy of the segment: `rows` (T + 1, B) are its first input, then its
        T symbols."""
        t, k = self.train_every, self.alphabet
        cross_entropy = self.torch.nn.functional.cross_entropy
        target = rows[1:]
        if self.context is None:
            if not self.starts:
                logits, _ = self.net(rows[:-1], self.seg_state)
                return cross_entropy(logits.reshape(-1, k), target.reshape(-1))
            # W windows of the segment side by side, a batch of W x B: row w * B + b is
            # stream b's window w, starting from the state the coding path had there
            w, b = len(self.starts) + 1, rows.shape[1]
            cut = self.window_steps
            side = rows[:-1].reshape(w, cut, b).transpose(0, 1).reshape(cut, w * b)
            logits, _ = self.net(side, _side_by_side([self.seg_state, *self.starts]))
            target = target.reshape(w, cut, b).transpose(0, 1).reshape(-1)
            return cross_entropy(logits.reshape(-1, k), target)
        seq = self.torch.cat([self.hist, target.T], 1)  # (B, <= keep + 1 + T)
        self.hist = seq[:, seq.shape[1] - self.keep - 1:]
        logits = self.net(seq[:, :-1])[:, -t:]
        return cross_entropy(logits.reshape(-1, k), target.T.reshape(-1))


def _widen(probs: Any) -> Any:
    """float32 softmax rows -> float64 floored at PROB_FLOOR (no symbol has probability 0)."""
    return probs.double().clamp_min_(PROB_FLOOR)


def _side_by_side(states: list[Any]) -> Any:
    """Recurrent states (a tensor or array of (layers, B, H), or a tuple of them) of W windows,
    joined along the stream axis: (layers, W x B, H), window by window. The first may be None
    (a model without `initial_state` starts from None, which torch's RNNs read as zeros)."""
    import torch

    if isinstance(states[-1], tuple):
        first = states[0] if states[0] is not None else (None,) * len(states[-1])
        return tuple(_side_by_side(list(part)) for part in zip(first, *states[1:], strict=True))
    parts = [torch.as_tensor(s) for s in states[1:]]  # windows after the first: states
    first = torch.zeros_like(parts[0]) if states[0] is None else torch.as_tensor(states[0])
    return torch.cat([first, *parts], 1)
