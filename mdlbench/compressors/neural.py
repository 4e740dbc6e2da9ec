"""Neural prequential coders: an LSTM and a Transformer that learn while they code.

The input is coded as B lockstep streams (coding/streams.py, the layout of Bellard's NNCP): each
step the network predicts the next byte of all B streams at once with its *step* function, the B
distributions go to the coder in one call, and the model is told the true bytes. Every T steps
(`train_every`) it takes one Adam step on the segment just coded. The decoder runs the very same
step and training calls in the same order, so it sees bit-identical probabilities.

Floats: softmax in float32 on the device, then float64 (floored at `PROB_FLOOR` so no symbol has
probability zero), moved to the host as one array per step. They depend on the device, the torch
build, the CPU kernel set or GPU model and the thread count: models/runtime.py fixes what can be
fixed and records the rest in the stream's meta. The total description length is the whole
container: the spec (with the seed) determines the initial network, so no weights are sent.

`extras["segments"]`: one {"bytes", "bits"} per training segment (T steps × B streams), the ideal
code length Σ -log2 p of that segment in bits: a learning curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..coding.core import PROB_FLOOR
from ..coding.streams import StreamCode, coarsen
from ..errors import UsageError
from ..models import runtime
from ..params import Param
from .base import register
from .lockstep import LockstepCoder

# --------------------------------------------------------------------------- step models


class NeuralStep:
    """The one step function of a neural coder (a StepModel): predict with the network's step
    path; after every `train_every` steps, one optimiser step on the segment just coded."""

    def __init__(self, net: Any, alphabet: int, streams: int, device: str, lr: float,
                 train_every: int, threads: int) -> None:
        import torch

        self.torch = torch
        self.net, self.alphabet, self.streams = net, alphabet, streams
        self.device = torch.device(device)
        self.threads = threads
        self.train_every = train_every
        self.opt = torch.optim.Adam(net.parameters(), lr=lr, foreach=True)
        self.x = torch.full((streams,), alphabet, dtype=torch.long, device=self.device)  # start
        self.buf = torch.zeros((train_every, streams), dtype=torch.long, device=self.device)
        self.n = 0
        self.updates = 0

    def predict(self) -> np.ndarray:
        runtime.settle(self.threads)
        with self.torch.no_grad():
            if self.n == 0:
                self._segment_start()
            logits = self._step(self.x)
            probs = logits.float().softmax(-1).double().clamp_min_(PROB_FLOOR)
        return probs.cpu().numpy()

    def update(self, symbols: np.ndarray) -> None:
        x = self.torch.from_numpy(np.ascontiguousarray(symbols, dtype=np.int64)).to(self.device)
        self.buf[self.n] = x
        self.x = x
        self.n += 1
        if self.n == self.train_every:
            runtime.settle(self.threads)
            loss = self._loss()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.n = 0
            self.updates += 1

    def _segment_start(self) -> None: ...

    def _step(self, x: Any) -> Any:
        raise NotImplementedError

    def _loss(self) -> Any:
        raise NotImplementedError


class LSTMStep(NeuralStep):
    def __init__(self, net: Any, *args: Any) -> None:
        super().__init__(net, *args)
        self.state = net.initial_state(self.streams, self.device)
        self.seg_state = self.state
        self.seg_input = self.x

    def _segment_start(self) -> None:
        self.seg_state, self.seg_input = self.state, self.x

    def _step(self, x: Any) -> Any:
        logits, self.state = self.net.step(x, self.state)
        return logits

    def _loss(self) -> Any:
        inputs = self.torch.cat([self.seg_input[None], self.buf[:-1]])
        logits, _ = self.net(inputs, self.seg_state)
        return self.torch.nn.functional.cross_entropy(
            logits.reshape(-1, self.alphabet), self.buf.reshape(-1))


class TransformerStep(NeuralStep):
    """Trains on the T symbols just coded, with up to min(T, context - 1) earlier symbols in
    front as context only: every symbol gets one gradient, and costs about two forward passes."""

    def __init__(self, net: Any, *args: Any) -> None:
        super().__init__(net, *args)
        self.cache = net.new_cache(self.streams, self.device)
        self.keep = min(self.train_every, net.cfg.context - 1)
        self.hist = self.x[:, None]  # (B, <= keep + 1): earlier symbols, start symbol first

    def _step(self, x: Any) -> Any:
        return self.net.step(x, self.cache)

    def _loss(self) -> Any:
        seq = self.torch.cat([self.hist, self.buf.T], 1)  # (B, <= keep + 1 + T)
        self.hist = seq[:, seq.shape[1] - self.keep - 1:]
        logits = self.net(seq[:, :-1])[:, -self.train_every:]
        return self.torch.nn.functional.cross_entropy(
            logits.reshape(-1, self.alphabet), self.buf.T.reshape(-1))


# --------------------------------------------------------------------------- compressors

def common_params(streams: int, train_every: int) -> tuple[Param, ...]:
    return (
        Param("streams", int, streams, "parallel streams coded in lockstep (B)", min=1,
              max=65536),
        Param("train_every", int, train_every, "steps per training segment (T)", min=1,
              max=100000),
        Param("seed", int, 0, "seed of the initial weights", min=0, max=2**31 - 1),
        Param("device", str, "cpu", "where the network runs", choices=("cpu", "cuda", "auto")),
        Param("threads", int, 1, "torch CPU threads (they can change the floats)", min=1,
              max=256),
        Param("coder", str, "range", "entropy coder", choices=("range", "ans")),
    )


class NeuralCoder(LockstepCoder):
    family = "neural"
    library = "torch"
    stochastic = True
    step_class: type[NeuralStep]

    def build_net(self, alphabet: int) -> Any:
        raise NotImplementedError

    def step_model(self, alphabet: int, streams: int) -> NeuralStep:
        """A fresh network (initialised from `seed`) wrapped as a StepModel."""
        c = self.config
        device = runtime.resolve_device(c["device"])
        runtime.settle(c["threads"])
        with runtime.seeded(c["seed"]):
            net = self.build_net(alphabet)  # initialised on the CPU: same weights everywhere
        net = net.to(device)
        return self.step_class(net, alphabet, streams, device, c["lr"], c["train_every"],
                               c["threads"])

    def segment_steps(self) -> int:
        return self.config["train_every"]

    def report(self, model: NeuralStep | None, code: StreamCode | None, streams: int,
               device: str) -> dict[str, Any]:
        extras: dict[str, Any] = {"device": device, "streams": streams}
        if model is None or code is None:
            return {**extras, "segments": []}
        extras["parameters"] = sum(p.numel() for p in model.net.parameters())
        extras["segments"] = coarsen(code.segments)
        extras["updates"] = model.updates
        return extras


@register
class LSTMCoder(NeuralCoder):
    name = "lstm"
    summary = "prequential byte-level LSTM (NNCP layout), learns while it codes"
    params = (
        Param("hidden", int, 128, "LSTM units per layer", min=1, max=8192),
        Param("layers", int, 1, "LSTM layers", min=1, max=16),
        Param("embed", int, 16, "input embedding width", min=1, max=4096),
        Param("lr", float, 0.02, "Adam learning rate", min=0.0, max=10.0),
        *common_params(streams=16, train_every=8),
    )
    step_class = LSTMStep

    def build_net(self, alphabet: int) -> Any:
        from ..models.lstm import LSTMConfig, LSTMModel

        c = self.config
        return LSTMModel(LSTMConfig(alphabet, c["embed"], c["hidden"], c["layers"]))


@register
class TransformerCoder(NeuralCoder):
    name = "transformer"
    summary = "prequential byte-level decoder-only Transformer (ALiBi, KV cache), learns while coding"
    params = (
        Param("layers", int, 2, "Transformer blocks", min=1, max=64),
        Param("dim", int, 64, "model width", min=1, max=8192),
        Param("heads", int, 4, "attention heads (must divide dim)", min=1, max=256),
        Param("context", int, 64, "attention window in bytes (also the training window)",
              min=2, max=65536),
        Param("lr", float, 0.01, "Adam learning rate", min=0.0, max=10.0),
        *common_params(streams=16, train_every=16),
    )
    step_class = TransformerStep

    def validate(self) -> None:
        if self.config["dim"] % self.config["heads"]:
            raise UsageError(f"transformer: dim={self.config['dim']} is not a multiple of "
                             f"heads={self.config['heads']}")

    def build_net(self, alphabet: int) -> Any:
        from ..models.transformer import TransformerConfig, TransformerModel

        c = self.config
        return TransformerModel(TransformerConfig(alphabet, c["layers"], c["dim"], c["heads"],
                                                  c["context"]))


__all__ = ["LSTMCoder", "TransformerCoder", "NeuralStep"]
