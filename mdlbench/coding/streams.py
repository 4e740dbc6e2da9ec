"""Bytes coded as B contiguous streams in lockstep, by one `StepModel` (the NNCP layout).

The input of n bytes is cut into B contiguous streams whose lengths differ by at most one (the
first n mod B streams are one byte longer). Each step the model predicts the next byte of all B
streams at once, the B distributions go to the coder in one call, and the model is told the true
bytes (`code_steps`; a `SegmentModel` encodes several training segments per call, `code_segments`);
the decoder makes the very same predictions. Bellard's NNCP (Bellard 2019,
"Lossless Data Compression with Neural Networks") codes this way: one batched forward pass per
step instead of one per byte. Nothing here depends on what the model is (torch network, mixture
of count models, ...).

The last step is ragged when B does not divide n: only the first n mod B streams still have a
byte. A model that accounts per symbol (the ensemble's member bits) may take those final
symbols through an optional `tail(symbols)` method; no `update` follows them.

`encode_streams` also records the ideal bits per segment of `segment_steps` steps (a learning
curve, read from the encoder's own running total so the segments add up to the reported figure
exactly); `coarsen` merges segments for storage.

Compiled coders (`kt`, `mix`, `ensemble`) use the same layout inside numba: `layout_array` packs
(B, q, r) for them, `stream_start` and `stream_of` map streams to positions of the input and
back, and `segments` turns their per-segment bit totals into the learning-curve records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numba
import numpy as np

if TYPE_CHECKING:  # the lockstep coders (mix, kt) need only the layout: no constriction
    from .core import Encoder
    from .loop import StepModel

ProgressFn = Callable[..., None]


class StreamCode(NamedTuple):
    """What `encode_streams` returns: the stream, Σ -log2 p in bits, and the learning curve
    (one {"bytes", "bits"} per segment)."""

    payload: bytes
    bits_ideal: float
    segments: list[dict[str, Any]]


def layout(n: int, streams: int) -> tuple[int, int, int]:
    """(B, q, r): B = min(streams, n) streams; the first r hold q+1 bytes, the others q."""
    b = max(1, min(streams, n))
    q, r = divmod(n, b)
    return b, q, r


def layout_array(n: int, streams: int) -> np.ndarray:
    """`layout(n, streams)` as an int64 array [B, q, r] for compiled loops."""
    return np.array(layout(n, streams), dtype=np.int64)


@numba.njit(cache=True, inline="always")
def stream_start(lay: np.ndarray, b: int) -> int:
    """First position of stream b in the input."""
    return b * lay[1] + min(b, lay[2])


@numba.njit(cache=True, inline="always")
def stream_length(lay: np.ndarray, b: int) -> int:
    """Symbols in stream b: the first r streams hold one more (they have the ragged last
    step)."""
    return lay[1] + (1 if b < lay[2] else 0)


@numba.njit(cache=True, inline="always")
def stream_of(lay: np.ndarray, pos: int) -> int:
    """The stream that holds position `pos` of the input."""
    q, r = lay[1], lay[2]
    head = r * (q + 1)
    if pos < head:
        return pos // (q + 1)
    return r + (pos - head) // q


def segment_steps(n: int, streams: int, most: int = 1000) -> int:
    """Steps per learning-curve segment for a compiled coder: at most `most` segments."""
    b, q, r = layout(n, streams)
    return max(1, -(-(q + (r > 0)) // most))


def segments(bits: np.ndarray, n: int, streams: int, steps: int) -> list[dict[str, Any]]:
    """Learning-curve records from per-segment bits (segment i: steps [i*steps, (i+1)*steps))."""
    b, q, r = layout(n, streams)
    ends = np.minimum(np.arange(1, len(bits) + 1) * steps, q + (r > 0))
    coded = np.minimum(ends, q) * b + np.where(ends > q, r, 0)  # bytes coded after each one
    sizes = np.diff(np.concatenate([[0], coded]))
    return [{"bytes": int(k), "bits": float(v)} for k, v in zip(sizes, bits, strict=True) if k]


def _index(n: int, b: int, q: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, B) positions into the data, and which of them exist (only the last row is ragged)."""
    lengths = np.full(b, q) + (np.arange(b) < r)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(q + (r > 0))[:, None]
    valid = t < lengths[None, :]
    return np.where(valid, starts[None, :] + t, 0), valid


class _Recorder:
    """Wraps a StepModel for the encoder: sums the encoder's ideal bits per segment."""

    def __init__(self, model: StepModel, encoder: Encoder, segment_steps: int) -> None:
        self.model, self.alphabet, self.streams = model, model.alphabet, model.streams
        self.encoder, self.segment_steps = encoder, segment_steps
        self.segments: list[dict[str, Any]] = []
        self._start_bits = 0.0
        self._bytes = 0
        self._steps = 0

    def predict(self) -> np.ndarray:
        return self.model.predict()

    def record(self, coded: int, steps: int = 1) -> None:
        self._bytes += coded
        self._steps += steps
        if self._steps >= self.segment_steps:
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


def _check_streams(model: StepModel, b: int) -> None:
    if b != model.streams:
        raise ValueError(f"step model built for {model.streams} streams, the layout has {b}")


def encode_streams(model: StepModel, data: bytes, *, coder: str = "range",
                   progress: ProgressFn | None = None, segment_steps: int = 64) -> StreamCode:
    """Code `data` with a step model built for `layout(len(data), B)[0]` streams."""
    n = len(data)
    b, q, r = layout(n, model.streams)
    _check_streams(model, b)
    idx, _ = _index(n, b, q, r)
    symbols = np.frombuffer(data, dtype=np.uint8).astype(np.int64)[idx]
    from .core import Encoder
    from .loop import SegmentModel, code_segments, code_steps

    enc = Encoder(coder)
    rec = _Recorder(model, enc, segment_steps)
    if isinstance(model, SegmentModel):
        code_segments(model, enc, symbols[:q], record=lambda steps, coded: rec.record(coded, steps),
                      progress=_bytes_progress(progress, b, n))
    else:
        code_steps(rec, q, encoder=enc, symbols=symbols[:q],
                   progress=_bytes_progress(progress, b, n))
    if r:
        probs = rec.predict()
        enc.encode(symbols[q, :r], probs[:r])
        rec.record(r)
        tail = getattr(model, "tail", None)
        if tail is not None:
            tail(symbols[q, :r])
    rec.flush()
    if progress is not None:
        progress(n, n)
    return StreamCode(enc.finish(), enc.bits_ideal, rec.segments)


def decode_streams(model: StepModel, payload: bytes, n: int, *, coder: str = "range",
                   progress: ProgressFn | None = None) -> bytes:
    """Inverse of `encode_streams`: the same predict/update calls in the same order."""
    b, q, r = layout(n, model.streams)
    _check_streams(model, b)
    from .core import Decoder
    from .loop import code_steps

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


def coarsen(segments: list[dict[str, Any]], most: int = 1000) -> list[dict[str, Any]]:
    """Merge runs of consecutive segments so a learning curve has at most `most` points."""
    g = -(-len(segments) // most)
    if g <= 1:
        return segments
    return [{"bytes": sum(s["bytes"] for s in segments[i:i + g]),
             "bits": sum(s["bits"] for s in segments[i:i + g])}
            for i in range(0, len(segments), g)]


def _bytes_progress(progress: ProgressFn | None, b: int, n: int) -> ProgressFn | None:
    """Steps → bytes for the progress callback (B bytes a step)."""
    if progress is None:
        return None
    return lambda step, _steps, *bits: progress(min(step * b, n), n, *bits)
