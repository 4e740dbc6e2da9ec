"""`code_steps`: the one predict → code → update loop of every Python-level step model.

A `StepModel` predicts the next symbol's distribution for each of B streams coded in lockstep
and is then told the true symbols. `code_steps` drives it: to encode it feeds the known symbols,
to decode it feeds what the decoder just read. The same predict/update calls run in the same
order on both sides, so the two cannot drift apart (the failure DeepMind's LMIC has when it
computes probabilities one way to compress and another way to decompress).

A `SegmentModel` (the torch coders' `TorchStep`) also lets the encoder, which knows every symbol,
run whole training segments per call, several at once (`code_segments`): the same predictions,
one coder call per segment instead of one per step; its decoder still runs `code_steps`.

Who runs on it: the neural coders (through coding/streams.py), the variational coders' window
model (data pushed on and popped off an `AnsStack`), kt's byte-level `KTStepModel`, and the
ensemble's step members (their rows, and their own streams behind its selector). Who does not,
and why:
- `kt`, `mix` and the ensemble's mixture are bit-level: the model step and the binary
  arithmetic coder (coding/binary.py) run together in one compiled loop, in both directions.
- `uniform`, `preq` and `twopart` code labels block by block, and a block's distributions are
  all known before it is coded (its model was trained on earlier blocks only): they hand whole
  blocks to `Encoder`/`Decoder` with no step loop at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

BATCH_VALUES = 1 << 17
"""Probabilities a SegmentModel computes per `encode_segments` call in `code_segments` (1 MiB of
float64): enough segments that its per-call torch ops cost little (GRU example, T = 8, B = 16,
K = 63: 39 µs a segment alone, 16 µs in 16), few enough to stay in cache."""


class StepModel(Protocol):
    """A predictive model over `streams` parallel symbol streams with alphabet size `alphabet`."""

    alphabet: int
    streams: int

    def predict(self) -> np.ndarray:
        """(B, K) non-negative float64 weights for the next symbol of each stream."""
        ...

    def update(self, symbols: np.ndarray) -> None:
        """Learn from the true next symbols, shape (B,)."""
        ...


@runtime_checkable
class SegmentModel(Protocol):
    """A StepModel whose encoder runs a whole training segment (`train_every` steps) in one
    call: the encoder knows every symbol, so nothing waits on the coder between steps, and the
    coder gets one call per segment instead of one per step. Each row must be what `predict`
    would have given at that step (the decoder's path)."""

    alphabet: int
    streams: int
    train_every: int

    def predict(self) -> np.ndarray: ...

    def update(self, symbols: np.ndarray) -> None: ...

    def encode_segment(self, symbols: np.ndarray) -> tuple[np.ndarray, float]:
        """Predict and learn the (t, B) symbols of the next t <= train_every steps (never past
        a segment's end); their (t * B, K) distributions and Σ -log2 p in bits."""
        ...

    def encode_segments(self, symbols: np.ndarray) -> tuple[np.ndarray, list[float]]:
        """Predict and learn the (t, B) symbols of the next t steps, any number of segments
        (training at each one's end); their (t * B, K) distributions and Σ -log2 p in bits of
        each segment (the first: the rest of the one under way)."""
        ...


class SymbolEncoder(Protocol):
    def encode(self, symbols: np.ndarray, probs: np.ndarray, ideal: float | None = None) -> None:
        ...


class SymbolDecoder(Protocol):
    def decode(self, probs: np.ndarray) -> np.ndarray: ...


def code_steps(model: StepModel, steps: int, *, encoder: SymbolEncoder | None = None,
               symbols: np.ndarray | None = None, decoder: SymbolDecoder | None = None,
               progress: Callable[..., None] | None = None,
               every: int = 256) -> np.ndarray:
    """Run `steps` lockstep steps. Encode: give `encoder` and `symbols` (steps, B). Decode: give
    `decoder`; returns the (steps, B) decoded symbols. `progress(step, steps[, bits])` every
    `every` steps; while encoding, `bits` is the running ideal code length (for a live bits/byte)
    when the encoder keeps one (`bits_ideal`).
    """
    if (encoder is None) == (decoder is None):
        raise ValueError("give exactly one of encoder or decoder")
    if encoder is not None and (symbols is None or symbols.shape[0] != steps):
        raise ValueError("encoding needs the (steps, B) symbols")
    out = np.empty((steps, model.streams), dtype=np.int64) if decoder is not None else symbols
    for t in range(steps):
        probs = model.predict()
        if encoder is not None:
            encoder.encode(symbols[t], probs)
        else:
            out[t] = decoder.decode(probs)
        model.update(out[t])
        if progress is not None and (t % every == 0 or t == steps - 1):
            bits = getattr(encoder, "bits_ideal", None) if encoder is not None else None
            if bits is None:
                progress(t + 1, steps)
            else:
                progress(t + 1, steps, bits)
    return out


def code_segments(model: SegmentModel, encoder: SymbolEncoder, symbols: np.ndarray, *,
                  record: Callable[[int, int], None] | None = None,
                  progress: Callable[..., None] | None = None, every: int = 256) -> None:
    """Encode the (steps, B) `symbols` one training segment at a time: the encoder's side of
    `code_steps` for a SegmentModel (the decoder still runs `code_steps`, which makes the same
    predictions one step at a time). The model runs several segments per call (about
    `BATCH_VALUES` probabilities), the coder still gets one call per segment, in order, so the
    stream and the running ideal bits are those of one call each. `record(steps, symbols)`
    after each segment; `progress` as in `code_steps`, at segment ends."""
    steps, seg = symbols.shape[0], model.train_every
    per_call = seg * max(1, BATCH_VALUES // (seg * model.streams * model.alphabet))
    for c0 in range(0, steps, per_call):
        probs, bits = model.encode_segments(symbols[c0:c0 + per_call])
        at = 0
        for t0, seg_bits in zip(range(c0, steps, seg), bits, strict=False):
            rows = symbols[t0:t0 + seg]
            encoder.encode(rows, probs[at:at + rows.size], seg_bits)
            at += rows.size
            if record is not None:
                record(len(rows), rows.size)
            t1 = t0 + len(rows)
            if progress is not None and (t1 // every != t0 // every or t1 == steps):
                bits_so_far = getattr(encoder, "bits_ideal", None)
                if bits_so_far is None:
                    progress(t1, steps)
                else:
                    progress(t1, steps, bits_so_far)
