"""Your own torch model as a prequential coder: a GRU, through mdlbench's TorchCoder adapter.

    mdlbench --plugin examples/gru_coder.py run canterbury:head=20000 -c gru:hidden=64

The network follows the recurrent protocol of mdlbench/models/adapter.py: inputs are symbols
0..K (K, the alphabet size, is the start symbol), `forward(x, state)` maps (T, B) inputs to
(T, B, K) logits and the next state. The adapter codes B streams in lockstep with real
arithmetic coding, trains every `train_every` steps with `optimizer`, and gives the stream,
`bits_ideal` and the learning curve; the decoder rebuilds the same network from the spec.
"""

import torch
from torch import nn

from mdlbench.compressors import register
from mdlbench.compressors.torchcoder import TorchCoder, torch_params
from mdlbench.params import Param


class GRUNet(nn.Module):
    def __init__(self, alphabet: int, embed: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(alphabet + 1, embed)  # + 1: the start symbol
        self.gru = nn.GRU(embed, hidden)
        self.head = nn.Linear(hidden, alphabet)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None):
        out, state = self.gru(self.embed(x), state)
        return self.head(out), state


@register
class GRUCoder(TorchCoder):
    name = "gru"
    summary = "prequential byte-level GRU (example plugin)"
    params = (
        Param("hidden", int, 64, "GRU units", min=1, max=4096),
        Param("embed", int, 16, "input embedding width", min=1, max=1024),
        *torch_params(streams=16, train_every=8, lr=0.01),
    )

    def build(self, alphabet: int) -> nn.Module:
        return GRUNet(alphabet, self.config["embed"], self.config["hidden"])

    def optimizer(self, params):
        return torch.optim.RMSprop(params, lr=self.config["lr"])
