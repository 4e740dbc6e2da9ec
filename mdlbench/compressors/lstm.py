"""`-c lstm`: the prequential byte-level LSTM, a TorchCoder (torchcoder.py) on the network in
models/lstm.py."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..params import Param
from .base import register
from .torchcoder import TorchCoder, torch_params


@register
class LSTMCoder(TorchCoder):
    name = "lstm"
    summary = "prequential byte-level LSTM (NNCP layout), learns while it codes"
    params = (
        Param("hidden", int, 128, "LSTM units per layer", min=1, max=8192),
        Param("layers", int, 1, "LSTM layers", min=1, max=16),
        Param("embed", int, 16, "input embedding width", min=1, max=4096),
        Param("kernel", str, "torch", "the step path: torch ops, or one numba-compiled call a "
              "step (CPU only; fastest for one stream)", choices=("torch", "numba")),
        *torch_params(streams=16, train_every=8, lr=0.02),
    )

    def validate(self) -> None:
        super().validate()
        device = self.config["device"]
        if self.config["kernel"] == "numba" and device != "cpu":
            from ..models import runtime  # torch is an extra: `list` works without it

            if runtime.resolve_device(device) == "cpu":
                return
            raise UsageError("lstm: kernel=numba runs on the CPU only (use kernel=torch on CUDA)")

    def activation_bytes(self, streams: int) -> int:
        """float32 gates, cell and hidden states of T steps x B streams per layer, and the
        logits, kept for backward (about 12 numbers a unit a step)."""
        c = self.config
        steps = streams * c["train_every"]
        return 4 * steps * (12 * c["layers"] * c["hidden"] + 3 * 256)

    def build(self, alphabet: int) -> Any:
        from ..models.lstm import LSTMConfig, LSTMModel

        c = self.config
        return LSTMModel(LSTMConfig(alphabet, c["embed"], c["hidden"], c["layers"],
                                    fused=c["kernel"] == "numba"))
