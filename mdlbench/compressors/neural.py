"""Neural prequential coders: an LSTM and a Transformer that learn while they code.

NNCP layout (REFERENCE §2). The input of n bytes is cut into B contiguous streams whose lengths
differ by at most one (the first n mod B streams are one byte longer), coded in lockstep: each
step the network predicts the next byte of all B streams at once with its *step* function, the
B distributions go to constriction in one call, and the model is told the true bytes. Every T
steps (`train_every`) it takes one Adam step on the segment just coded. The decoder runs the very
same step and training calls in the same order, so it sees bit-identical probabilities.

Floats: softmax in float32 on the device, then float64 (floored at 1e-12 so no symbol has
probability zero), moved to the host as one array per step. They depend on the device, the torch
build, the CPU kernel set or GPU model and the thread count; the stream's meta records the device,
the threads and a CRC-32 of that fingerprint, and a decoder elsewhere refuses with a clear message
instead of producing garbage. The total description length is the whole container: the spec
(with the seed) determines the initial network, so no weights are sent.

`extras["segments"]`: one {"bytes", "bits"} per training segment (T steps × B streams), the ideal
code length Σ -log2 p of that segment in bits: a learning curve.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..coding import varint
from ..coding.core import Decoder, Encoder
from ..coding.loop import StepModel, code_steps
from ..errors import CorruptStreamError, UsageError
from ..params import Param
from .base import ProgressFn, register
from .model import ModelCoder, Payload, alphabet_of

PROB_FLOOR = 1e-12
DEVICES = ("cpu", "cuda")

# --------------------------------------------------------------------------- torch environment


def resolve_device(name: str) -> str:
    """'cpu' | 'cuda' | 'auto' -> the device type to run on; UsageError if cuda is missing."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise UsageError("device=cuda asked for, but torch sees no CUDA GPU here "
                             "(use --device cpu or auto)")
        # cuBLAS is deterministic only with a fixed workspace; must be set before it starts.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return name


def fingerprint(device: str) -> str:
    """What determines the floats besides the spec: torch build and the kernels it will pick."""
    import torch

    if device == "cuda":
        where = (f"{torch.cuda.get_device_name(0)};cuda={torch.version.cuda};"
                 f"cudnn={torch.backends.cudnn.version()}")
    else:
        where = f"cpu={torch.backends.cpu.get_cpu_capability()}"
    return f"torch={torch.__version__};{where}"


@contextlib.contextmanager
def torch_settings(threads: int) -> Iterator[None]:
    """Deterministic algorithms and a fixed thread count while coding; restored afterwards."""
    import torch

    old_det, old_threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


def write_meta(device: str, threads: int, alphabet: int) -> bytes:
    """[device 1B][threads varint][CRC-32 of fingerprint 4B][alphabet-1 1B]: 7 bytes."""
    crc = zlib.crc32(fingerprint(device).encode())
    return (bytes([DEVICES.index(device)]) + varint.encode(threads)
            + crc.to_bytes(4, "little") + bytes([alphabet - 1]))


def read_meta(meta: bytes, device: str, threads: int) -> int:
    """Check that this machine reproduces the encoder's floats; return the alphabet size."""
    if len(meta) < 7 or meta[0] >= len(DEVICES):
        raise CorruptStreamError("corrupt stream (bad neural coder meta)")
    enc_device = DEVICES[meta[0]]
    enc_threads, pos = varint.decode(meta, 1)
    if pos + 5 != len(meta):
        raise CorruptStreamError("corrupt stream (bad neural coder meta)")
    if enc_device != device:
        raise UsageError(f"this stream was encoded on {enc_device}, but decoding would run on "
                         f"{device}: floats differ across devices, so decode with "
                         f"--device {enc_device} on a machine that has one")
    if enc_threads != threads:
        raise CorruptStreamError(f"corrupt stream (meta says {enc_threads} threads, spec says "
                                 f"{threads})")
    crc = int.from_bytes(meta[pos:pos + 4], "little")
    here = fingerprint(device)
    if crc != zlib.crc32(here.encode()):
        raise UsageError(f"this stream was encoded with another torch build, CPU kernel set or "
                         f"GPU model than this one ({here}); its floats would differ: decode "
                         f"it where it was encoded")
    return meta[pos + 4] + 1


# --------------------------------------------------------------------------- stream layout


def layout(n: int, streams: int) -> tuple[int, int, int]:
    """(B, q, r): B = min(streams, n) streams; the first r hold q+1 bytes, the others q."""
    b = max(1, min(streams, n))
    q, r = divmod(n, b)
    return b, q, r


def _index(n: int, b: int, q: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, B) positions into the data, and which of them exist (only the last row is ragged)."""
    lengths = np.full(b, q) + (np.arange(b) < r)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(q + (r > 0))[:, None]
    valid = t < lengths[None, :]
    return np.where(valid, starts[None, :] + t, 0), valid


class _Recorder:
    """Wraps a StepModel for the encoder: sums the encoder's ideal bits per segment (read from
    `Encoder.bits_ideal`, so the segments add up to the reported figure exactly)."""

    def __init__(self, model: StepModel, encoder: Encoder, segment_steps: int) -> None:
        self.model, self.alphabet, self.streams = model, model.alphabet, model.streams
        self.encoder, self.segment_steps = encoder, segment_steps
        self.segments: list[dict[str, Any]] = []
        self._start_bits = 0.0
        self._bytes = 0
        self._steps = 0

    def predict(self) -> np.ndarray:
        return self.model.predict()

    def record(self, coded: int) -> None:
        self._bytes += coded
        self._steps += 1
        if self._steps == self.segment_steps:
            self.flush()

    def update(self, symbols: np.ndarray) -> None:
        self.record(len(symbols))
        self.model.update(symbols)

    def flush(self) -> None:
        if self._bytes:
            bits = self.encoder.bits_ideal - self._start_bits
            self.segments.append({"bytes": self._bytes, "bits": bits})
        self._start_bits = self.encoder.bits_ideal
        self._bytes, self._steps = 0, 0


def encode_streams(model: StepModel, data: bytes, coder: str, progress: ProgressFn | None,
                   segment_steps: int) -> tuple[bytes, float, list[dict[str, Any]]]:
    """Code `data` with a step model built for `layout(len(data), B)`; returns (stream, ideal
    bits, segments). The ragged last step codes only the streams that still have a byte."""
    n = len(data)
    b, q, r = layout(n, model.streams)
    if b != model.streams:
        raise ValueError("step model built for the wrong number of streams")
    idx, _ = _index(n, b, q, r)
    symbols = np.frombuffer(data, dtype=np.uint8).astype(np.int64)[idx]
    enc = Encoder(coder)
    rec = _Recorder(model, enc, segment_steps)
    code_steps(rec, q, encoder=enc, symbols=symbols[:q], progress=_bytes_progress(progress, b, n))
    if r:
        probs = rec.predict()
        enc.encode(symbols[q, :r], probs[:r])
        rec.record(r)
        tail = getattr(model, "tail", None)  # models that account per symbol (ensemble)
        if tail is not None:
            tail(symbols[q, :r])
    rec.flush()
    if progress is not None:
        progress(n, n)
    return enc.finish(), enc.bits_ideal, rec.segments


def coarsen(segments: list[dict[str, Any]], most: int = 1000) -> list[dict[str, Any]]:
    """Merge runs of consecutive segments so a learning curve has at most `most` points."""
    g = -(-len(segments) // most)
    if g <= 1:
        return segments
    return [{"bytes": sum(s["bytes"] for s in segments[i:i + g]),
             "bits": sum(s["bits"] for s in segments[i:i + g])}
            for i in range(0, len(segments), g)]


def decode_streams(model: StepModel, payload: bytes, n: int, coder: str,
                   progress: ProgressFn | None) -> bytes:
    """Inverse of `encode_streams`: the same predict/update calls in the same order."""
    b, q, r = layout(n, model.streams)
    if b != model.streams:
        raise ValueError("step model built for the wrong number of streams")
    dec = Decoder(payload, coder)
    symbols = np.zeros((q + (r > 0), b), dtype=np.int64)
    symbols[:q] = code_steps(model, q, decoder=dec, progress=_bytes_progress(progress, b, n))
    if r:
        symbols[q, :r] = dec.decode(model.predict()[:r])
    if progress is not None:
        progress(n, n)
    idx, valid = _index(n, b, q, r)
    out = np.zeros(n, dtype=np.uint8)
    out[idx[valid]] = symbols[valid]
    return out.tobytes()


def _bytes_progress(progress: ProgressFn | None, b: int, n: int):
    if progress is None:
        return None
    return lambda step, _steps, *bits: progress(min(step * b, n), n, *bits)


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

    def _settle(self) -> None:
        # Same kernels on both sides even if someone changed the global torch settings.
        torch = self.torch
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        if not torch.are_deterministic_algorithms_enabled():
            torch.use_deterministic_algorithms(True)

    def predict(self) -> np.ndarray:
        self._settle()
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
            self._settle()
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


class NeuralCoder(ModelCoder):
    family = "neural"
    library = "torch"
    stochastic = True
    step_class: type[NeuralStep]

    def build_net(self, alphabet: int) -> Any:
        raise NotImplementedError

    def step_model(self, alphabet: int, streams: int) -> NeuralStep:
        """A fresh network (initialised from `seed`) wrapped as a StepModel."""
        import torch

        device = resolve_device(self.config["device"])
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(self.config["threads"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config["seed"])
            net = self.build_net(alphabet)  # initialised on the CPU: same weights everywhere
        net = net.to(device)
        c = self.config
        return self.step_class(net, alphabet, streams, device, c["lr"], c["train_every"],
                               c["threads"])

    def encode_payload(self, data: bytes, side: Any, progress: ProgressFn | None) -> Payload:
        c = self.config
        device = resolve_device(c["device"])
        k = alphabet_of(data)
        meta = write_meta(device, c["threads"], k)
        b = layout(len(data), c["streams"])[0]
        extras: dict[str, Any] = {"device": device, "streams": b}
        if k == 1:  # one symbol: the length says it all
            return Payload(b"", 0.0, meta, {**extras, "segments": []})
        with torch_settings(c["threads"]):
            model = self.step_model(k, b)
            extras["parameters"] = sum(p.numel() for p in model.net.parameters())
            stream, ideal, segments = encode_streams(model, data, c["coder"], progress,
                                                     c["train_every"])
        extras["segments"] = coarsen(segments)
        extras["updates"] = model.updates
        return Payload(stream, ideal, meta, extras)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, side: Any,
                       progress: ProgressFn | None) -> bytes:
        c = self.config
        device = resolve_device(c["device"])
        k = read_meta(meta, device, c["threads"])
        if k == 1:
            return bytes(length)
        with torch_settings(c["threads"]):
            model = self.step_model(k, layout(length, c["streams"])[0])
            return decode_streams(model, payload, length, c["coder"], progress)


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


__all__ = ["LSTMCoder", "TransformerCoder", "NeuralStep", "encode_streams", "decode_streams",
           "layout"]
