"""The neural prequential coders' adapter: a user's torch model as a coder (`TorchCoder`); the
built-in `lstm` (lstm.py) and `transformer` (transformer.py) are TorchCoders.

The input is coded as B lockstep streams (coding/streams.py, the layout of Bellard's NNCP): each
step the network predicts the next byte of all B streams at once with its *step* function, the B
distributions go to the coder in one call, and the model is told the true bytes. Every T steps
(`train_every`) it takes one optimiser step on the segment just coded. The decoder runs the very
same step and training calls in the same order, so it sees bit-identical probabilities. The
protocol a network follows, and the step function that drives it, are in models/adapter.py.

Floats: softmax in float32 on the device, then float64 (floored at `PROB_FLOOR` so no symbol has
probability zero), moved to the host as one array per step. They depend on the device, the torch
build, the CPU kernel set or GPU model and the thread count: models/runtime.py fixes what can be
fixed and records the rest in the stream's meta. The total description length is the whole
container: the spec (with the seed) determines the initial network, so no weights are sent.

`extras["segments"]`: one {"bytes", "bits"} per training segment (T steps × B streams), the ideal
code length Σ -log2 p of that segment in bits: a learning curve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..coding.streams import StreamCode, coarsen
from ..errors import UsageError
from ..models import runtime
from ..models.adapter import TorchStep
from ..params import Param
from .lockstep import LockstepCoder


def torch_params(streams: int = 16, train_every: int = 8, lr: float = 1e-3) -> tuple[Param, ...]:
    """The parameters every TorchCoder declares, after its own: the learning rate of the default
    optimiser, the stream layout, the seed of the initial weights, and where the floats come
    from (device, threads) and which entropy coder writes the stream."""
    return (
        Param("lr", float, lr, "Adam learning rate", min=0.0, max=10.0),
        Param("streams", int, streams, "parallel streams coded in lockstep (B)", min=1,
              max=65536),
        Param("train_every", int, train_every, "steps per training segment (T)", min=1,
              max=100000),
        Param("windows", int, 1, "a recurrent network trains on its segment cut into this many "
              "windows side by side (truncated backpropagation, a W-times wider batch)", min=1,
              max=65536),
        Param("seed", int, 0, "seed of the initial weights", min=0, max=2**31 - 1),
        Param("device", str, "cpu", "where the network runs", choices=("cpu", "cuda", "auto")),
        Param("threads", int, 1, "torch CPU threads (they can change the floats)", min=1,
              max=256),
        Param("coder", str, "range", "entropy coder", choices=("range", "ans")),
    )


class TorchCoder(LockstepCoder):
    """The adapter: a torch next-symbol model (models/adapter.py) as a prequential coder.

    Subclass it, give the class a `name` and `params` (your own, then `*torch_params(...)`),
    implement `build(alphabet)` to return your network, and register it::

        @register
        class GRUCoder(TorchCoder):
            name = "gru"
            params = (Param("hidden", int, 64, "GRU units"), *torch_params())

            def build(self, alphabet):
                return GRUNet(alphabet, self.config["hidden"])

    The network is built from the spec alone (weights seeded by `seed`, on the CPU, then moved
    to the device), so the decoder builds the same one and no weights are sent. Override
    `optimizer(params)` for another optimiser than Adam(lr), and `context()` to return C for a
    window model (a recurrent one returns None). Real arithmetic coding (constriction),
    `bits_ideal`, the learning curve in `extras["segments"]`, and the device and determinism
    rules of models/runtime.py come with it.
    """

    family = "neural"
    library = "torch"
    stochastic = True
    params: tuple[Param, ...] = torch_params()

    def validate(self) -> None:
        missing = sorted({p.name for p in torch_params()} - set(self.config))
        if missing:
            raise UsageError(f"{self.name}: a TorchCoder's params end with *torch_params() "
                             f"(missing: {', '.join(missing)})")
        runtime.pin_device(self.config)
        w, t = self.config["windows"], self.config["train_every"]
        if w > 1 and (t % w or self.context() is not None):
            raise UsageError(f"{self.name}: windows={w} needs a recurrent network and "
                             f"train_every a multiple of it (train_every={t})")

    def build(self, alphabet: int) -> Any:
        """A fresh torch.nn.Module over `alphabet` symbols (inputs 0..alphabet, the last being
        the start symbol), following the protocol of models/adapter.py."""
        raise NotImplementedError

    def optimizer(self, params: Iterable[Any]) -> Any:
        """Adam(lr), fused: one kernel for all parameters (measured 5 % faster encodes than
        foreach on CPU)."""
        import torch

        return torch.optim.Adam(params, lr=self.config["lr"], fused=True)

    def context(self) -> int | None:
        """None for a recurrent model; C for a window model over the last C symbols."""
        return None

    def step_model(self, alphabet: int, streams: int) -> TorchStep:
        """A fresh network (initialised from `seed`) wrapped as a StepModel."""
        c = self.config
        device = runtime.resolve_device(c["device"])
        runtime.settle(c["threads"])
        with runtime.seeded(c["seed"]):
            net = self.build(alphabet)  # initialised on the CPU: same weights everywhere
        net = net.to(device)
        return TorchStep(net, self.optimizer, alphabet, streams, device, c["train_every"],
                         c["threads"], self.context(), c["windows"])

    def segment_steps(self) -> int:
        return self.config["train_every"]

    def activation_bytes(self, streams: int) -> int:
        """Bytes one training step keeps for its backward pass (the built-in networks say;
        a user's network counts only its parameters)."""
        return 0

    def memory_bytes(self, n: int) -> int:
        """Weights, gradients and Adam's two moments (16 B a parameter, counted by building the
        network on torch's meta device: nothing is allocated), one training step's
        activations, and the input, stream and decoded copy: refused before anything is built
        when it exceeds the machine's memory."""
        import torch

        with torch.device("meta"):
            net = self.build(256)
        params = sum(p.numel() for p in net.parameters())
        return 3 * n + 16 * params + self.activation_bytes(min(self.config["streams"],
                                                               max(n, 1)))

    def length_bound(self, stream_bytes: int, meta: bytes = b"") -> int:
        """Every symbol costs at least -log2(1 - (K-1)/2^24) bits (constriction's categorical
        models give each other symbol 2^-24 at least), so a stream of s bytes holds at most
        8 s over that many symbols; a one-symbol alphabet (last meta byte 0) costs nothing."""
        k = meta[-1] + 1 if meta else 256
        if k == 1:
            return self.max_input
        per_symbol = -math.log2(1.0 - (k - 1) / 2**24)
        return min(self.max_input, int(8 * (stream_bytes + 16) / per_symbol))

    def report(self, model: TorchStep | None, code: StreamCode | None, streams: int,
               device: str) -> dict[str, Any]:
        extras: dict[str, Any] = {"device": device, "streams": streams}
        if model is None or code is None:
            return {**extras, "segments": []}
        extras["parameters"] = model.parameters
        extras["segments"] = coarsen(code.segments)
        extras["updates"] = model.updates
        return extras


__all__ = ["TorchCoder", "torch_params"]
