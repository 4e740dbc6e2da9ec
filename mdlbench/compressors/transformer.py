"""`-c transformer`: the prequential byte-level decoder-only Transformer, a TorchCoder
(torchcoder.py) on the network in models/transformer.py."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..params import Param
from .base import register
from .torchcoder import TorchCoder, torch_params


@register
class TransformerCoder(TorchCoder):
    name = "transformer"
    summary = "prequential byte-level decoder-only Transformer (ALiBi, KV cache), learns while coding"
    params = (
        Param("layers", int, 2, "Transformer blocks", min=1, max=64),
        Param("dim", int, 64, "model width", min=1, max=8192),
        Param("heads", int, 4, "attention heads (must divide dim)", min=1, max=256),
        Param("context", int, 64, "attention window in bytes (also the training window)",
              min=2, max=65536),
        *torch_params(streams=16, train_every=16, lr=0.01),
    )

    def validate(self) -> None:
        super().validate()
        if self.config["dim"] % self.config["heads"]:
            raise UsageError(f"transformer: dim={self.config['dim']} is not a multiple of "
                             f"heads={self.config['heads']}")

    def context(self) -> int | None:
        return self.config["context"]

    def activation_bytes(self, streams: int) -> int:
        """The training window L = min(T, context-1) + T: per layer, attention scores and their
        softmax and gradient (3 x heads x L^2) and about 12 activations a position of the
        width; plus the KV cache of the coding path (2 x context x dim per layer) and its ALiBi
        tables (heads + 1 squares of the context), float32."""
        c = self.config
        window = min(c["train_every"], c["context"] - 1) + c["train_every"]
        per_layer = 3 * c["heads"] * window**2 + 12 * window * c["dim"] + 2 * c["context"] * c["dim"]
        return 4 * (streams * c["layers"] * per_layer + (c["heads"] + 1) * c["context"]**2)

    def build(self, alphabet: int) -> Any:
        from ..models.transformer import TransformerConfig, TransformerModel

        c = self.config
        return TransformerModel(TransformerConfig(alphabet, c["layers"], c["dim"], c["heads"],
                                                  c["context"]))
